//! Tables for the StatefulSet view and the fleet view. Pure: report in,
//! string out.

use comfy_table::{Table, presets};

use super::Style;
use crate::analysis::finding::Finding;
use crate::analysis::health::Verdict;
use crate::analysis::statefulset::{
    CanaryStagePhase, ClaimView, DnsState, Header, OrdinalRow, RolloutState, ServiceVerdict,
    StsReport,
};

/// A kubectl-looking table: no borders, three spaces between columns.
pub fn plain_table(headers: Vec<String>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(headers);
    for c in t.column_iter_mut() {
        c.set_padding((0, 3));
    }
    t
}

/// Finishes a table as text, trailing spaces removed.
pub fn table_text(t: &mut Table) -> String {
    for c in t.column_iter_mut() {
        c.set_padding((0, 3));
    }
    t.lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn claim_cell(c: &ClaimView, wide: bool, st: &Style) -> String {
    if c.phase == "Missing" {
        return st.dim("-");
    }
    let phase = match c.phase.as_str() {
        "Bound" => st.green("Bound"),
        other => st.red(other),
    };
    let mut s = match &c.capacity {
        Some(cap) => format!("{} {phase} {cap}", c.name),
        None => format!("{} {phase}", c.name),
    };
    if wide {
        for part in [&c.storage_class, &c.volume, &c.reclaim_policy] {
            s.push(' ');
            s.push_str(part.as_deref().unwrap_or("-"));
        }
    }
    s
}

fn dns_cell(r: &OrdinalRow, wide: bool, st: &Style) -> String {
    let Some(state) = r.dns_state else {
        return st.dim("-");
    };
    let word = match state {
        DnsState::Resolves => st.green("ok"),
        DnsState::NoRecords => st.red("none (Service)"),
        DnsState::NotReady => st.yellow("not yet (not Ready)"),
        DnsState::NoPod => st.dim("- (no pod)"),
    };
    match (&r.dns, wide) {
        (Some(name), true) => format!("{name} {word}"),
        _ => word,
    }
}

fn row_cells(r: &OrdinalRow, rep: &StsReport, wide: bool, st: &Style) -> Vec<String> {
    let mut cells = Vec::new();
    match &r.pod {
        Some(p) => {
            let revision = match &p.revision {
                Some(rev) if p.updated => format!("{rev} {}", st.green("(update)")),
                Some(rev) => format!("{rev} {}", st.yellow("(old)")),
                None => "-".into(),
            };
            cells.extend([
                p.name.clone(),
                st.ok(p.ready, &p.ready_containers),
                st.ok(p.ready && !p.terminating, &p.status),
                p.restarts.to_string(),
                p.age.clone(),
                p.node.clone().unwrap_or_else(|| "<none>".into()),
            ]);
            if wide {
                cells.push(p.ip.clone().unwrap_or_else(|| "<none>".into()));
            }
            cells.push(revision);
        }
        None => {
            let name = format!("{}-{}", rep.name, r.ordinal);
            let missing = if r.in_range {
                st.red("<missing>")
            } else {
                st.dim("-")
            };
            cells.extend([
                name,
                "-".into(),
                missing,
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
            if wide {
                cells.push("-".into());
            }
            cells.push("-".into());
        }
    }
    // One column per template, in template order (rows always carry one
    // claim per template, Missing included, so columns never shift).
    for c in &r.claims {
        cells.push(claim_cell(c, wide, st));
    }
    cells.push(if r.in_range {
        dns_cell(r, wide, st)
    } else {
        st.dim("-")
    });
    cells
}

/// The findings table shared by the StatefulSet and DaemonSet views: one
/// row per finding, every object of a grouped finding on its own line, the
/// fix below the message.
pub fn findings_text(findings: &[Finding], st: &Style) -> String {
    let mut t = plain_table(vec!["SEVERITY".into(), "OBJECT".into(), "FINDING".into()]);
    for f in findings {
        let mut msg = f.message.clone();
        if let Some(fix) = &f.fix {
            msg.push_str(&format!("\nfix: {fix}"));
        }
        t.add_row(vec![
            st.severity(f.severity),
            f.all_objects().join("\n"),
            msg,
        ]);
    }
    table_text(&mut t)
}

/// The `Health:` header line shared by the StatefulSet and DaemonSet views.
pub fn health_line(v: &Verdict, st: &Style) -> String {
    let cell = super::fleet::health_cell(v.health, st);
    if v.reason.is_empty() {
        format!("Health:     {cell}\n")
    } else {
        format!("Health:     {cell}: {}\n", v.reason)
    }
}

fn revisions_line(h: &Header) -> String {
    let counts: Vec<String> = h
        .pods_by_revision
        .iter()
        .map(|(rev, n)| {
            let tag = if *rev == h.update_revision {
                "update"
            } else {
                "old"
            };
            format!("{rev} ({tag}): {n} pod(s)")
        })
        .collect();
    let update = if counts.iter().any(|c| c.contains("(update)")) {
        String::new()
    } else {
        format!("update {} (no pods yet)", or_dash(&h.update_revision))
    };
    let mut parts: Vec<String> = Vec::new();
    if !update.is_empty() {
        parts.push(update);
    }
    parts.extend(counts);
    if parts.is_empty() {
        parts.push(format!("update {}", or_dash(&h.update_revision)));
    }
    format!("Revisions:  {}\n", parts.join(" | "))
}

fn rollout_text(rep: &StsReport) -> String {
    let h = &rep.header;
    let missing = rep.ordinals.iter().filter(|o| o.pod.is_none()).count();
    let text = rollout_state_text(h);
    let text = if missing > 0 && h.rollout == RolloutState::Complete {
        format!("every existing pod runs the update revision; {missing} pod(s) not created")
    } else {
        text
    };
    match rep.verdict.finding.as_deref() {
        Some("rollout.forced_rollback_trap") => {
            format!("{text}; stuck: see the forced-rollback trap below")
        }
        _ => text,
    }
}

fn rollout_state_text(h: &Header) -> String {
    match h.rollout {
        RolloutState::Complete => "complete: every pod runs the update revision".into(),
        RolloutState::NotObserved => format!(
            "spec change not yet observed (generation {}, observed {})",
            h.generation, h.observed_generation
        ),
        RolloutState::InProgress { updated, target } => {
            format!("in progress: {updated} of {target} pods at or above the partition updated")
        }
        RolloutState::Partitioned { held } => format!(
            "held by partition {}: {held} pod(s) below it stay on the old revision",
            h.partition.unwrap_or(0)
        ),
        RolloutState::WaitingForDeletes { waiting } => {
            format!("OnDelete: {waiting} pod(s) wait to be deleted by hand")
        }
    }
}

/// The StatefulSet view as text.
pub fn sts_table(rep: &StsReport, wide: bool, st: &Style) -> String {
    let h = &rep.header;
    let mut out = String::new();
    let strategy = match h.partition {
        Some(p) => format!(
            "{} (partition {p}{})",
            h.strategy,
            h.max_unavailable
                .as_ref()
                .map(|m| format!(", maxUnavailable {m}"))
                .unwrap_or_default()
        ),
        None => h.strategy.clone(),
    };
    out.push_str(&format!(
        "{} {}/{}\n",
        st.bold("StatefulSet"),
        rep.namespace,
        rep.name
    ));
    out.push_str(&health_line(&rep.verdict, st));
    out.push_str(&format!(
        "Replicas:   {} desired | {} ready | {} updated | {} available\n",
        h.replicas, h.ready_replicas, h.updated_replicas, h.available_replicas
    ));
    out.push_str(&revisions_line(h));
    out.push_str(&format!("Rollout:    {}\n", rollout_text(rep)));
    out.push_str(&format!(
        "Strategy:   {strategy} | {} | minReadySeconds {} | ordinals.start {}\n",
        h.pod_management_policy, h.min_ready_seconds, h.ordinals_start
    ));
    let verdict = if h.service_verdict == ServiceVerdict::Ok {
        st.green("ok")
    } else {
        st.red(h.service_verdict.as_str())
    };
    let dns = match (&h.dns_pattern, h.service_verdict) {
        (Some(p), ServiceVerdict::Ok) => format!(", DNS {p}"),
        (Some(_), _) => ", no per-pod DNS names".to_string(),
        (None, _) => String::new(),
    };
    out.push_str(&format!(
        "Service:    {} ({verdict}){dns}\nClaims:     retention whenDeleted {}, whenScaled {}\n",
        or_dash(&h.service_name),
        h.pvc_retention_when_deleted,
        h.pvc_retention_when_scaled
    ));
    if let (Some(c), Some(stage)) = (&rep.canary, &rep.canary_stage) {
        let phase = match stage.phase {
            CanaryStagePhase::GateFailing
            | CanaryStagePhase::Aborting
            | CanaryStagePhase::ChangedOutside => st.red(stage.phase.as_str()),
            CanaryStagePhase::Running => st.yellow(stage.phase.as_str()),
            CanaryStagePhase::Settled | CanaryStagePhase::Complete => {
                st.green(stage.phase.as_str())
            }
        };
        out.push_str(&format!(
            "{}     {} -> {}: step {}/{} {phase}, {} pod(s) on the canary revision; floor {}{}\n",
            st.cyan("Canary:"),
            c.from,
            if c.to.is_empty() {
                "(pending)"
            } else {
                c.to.as_str()
            },
            stage.step,
            stage.steps,
            stage.updated,
            c.floor,
            if c.started_by.is_empty() {
                String::new()
            } else {
                format!("; started by {}", c.started_by)
            },
        ));
    }
    out.push('\n');
    let mut headers: Vec<String> = ["POD", "READY", "STATUS", "RESTARTS", "AGE", "NODE"]
        .map(String::from)
        .to_vec();
    if wide {
        headers.push("IP".into());
    }
    headers.push("REVISION".into());
    for t in &h.volume_claim_templates {
        headers.push(if wide {
            format!("PVC {t} (CLASS PV RECLAIM)")
        } else {
            format!("PVC {t}")
        });
    }
    headers.push("DNS".into());
    let mut t = plain_table(headers);
    let partition = h.partition.unwrap_or(0);
    // Separator lines go between table lines (not into a column, which
    // would widen it): (index of the data row they precede, text).
    let mut seps: Vec<(usize, String)> = Vec::new();
    let mut n = 0;
    for r in &rep.ordinals {
        if partition > 0 && r.ordinal - h.ordinals_start == partition {
            seps.push((
                n,
                st.cyan(&format!(
                    "-- partition {partition}: ordinals >= {} get the update revision --",
                    h.ordinals_start + partition
                )),
            ));
        }
        t.add_row(row_cells(r, rep, wide, st));
        n += 1;
    }
    if !rep.out_of_range.is_empty() {
        let live = if h.replicas > 0 {
            format!(
                "live ordinals {}",
                crate::analysis::statefulset::ordinal_range(
                    &(h.ordinals_start..h.ordinals_start + h.replicas)
                )
            )
        } else {
            "no live ordinals: replicas 0".to_string()
        };
        seps.push((n, st.dim(&format!("-- out of range ({live}) --"))));
        for r in &rep.out_of_range {
            t.add_row(row_cells(r, rep, wide, st));
        }
    }
    let text = table_text(&mut t);
    for (i, line) in text.lines().enumerate() {
        // Line 0 is the header; data row k is line k+1.
        for (_, sep) in seps.iter().filter(|(row, _)| i > 0 && *row + 1 == i) {
            out.push_str(sep);
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    if !rep.stray_claims.is_empty() {
        out.push_str("\nClaims of removed or renamed volumeClaimTemplates:\n");
        for c in &rep.stray_claims {
            out.push_str(&format!("  {}\n", claim_cell(c, wide, st)));
        }
    }
    if rep.findings.is_empty() {
        out.push_str(&format!("\n{}\n", st.green("No problems found.")));
    } else {
        out.push('\n');
        out.push_str(&findings_text(&rep.findings, st));
        out.push('\n');
    }
    for n in &rep.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}
