//! Tables for the StatefulSet view and the fleet view. Pure: report in,
//! string out.

use comfy_table::{Table, presets};

use super::Style;
use crate::analysis::finding::Finding;
use crate::analysis::statefulset::{ClaimView, OrdinalRow, StsReport};

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
    let phase = match c.phase.as_str() {
        "Bound" => st.green("Bound"),
        "Missing" => st.dim("-"),
        other => st.red(other),
    };
    let mut s = match &c.capacity {
        Some(cap) if c.phase != "Missing" => format!("{phase} {cap}"),
        _ => phase,
    };
    if wide {
        for part in [&c.storage_class, &c.volume, &c.reclaim_policy] {
            s.push(' ');
            s.push_str(part.as_deref().unwrap_or("-"));
        }
    }
    s
}

fn row_cells(r: &OrdinalRow, rep: &StsReport, wide: bool, st: &Style) -> Vec<String> {
    let mut cells = vec![r.ordinal.to_string()];
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
    for c in &r.claims {
        cells.push(claim_cell(c, wide, st));
    }
    // Out-of-range rows may have fewer claims (missing ones dropped).
    while cells.len() < base_columns(wide) + rep.header.volume_claim_templates.len() {
        cells.push(String::new());
    }
    cells.push(r.dns.clone().unwrap_or_else(|| {
        if r.in_range {
            "-".into()
        } else {
            st.dim("(out of range)")
        }
    }));
    cells
}

fn base_columns(wide: bool) -> usize {
    if wide { 9 } else { 8 }
}

/// The findings table (SEVERITY, OBJECT, FINDING with its fix), shared by
/// the StatefulSet and DaemonSet views.
pub(crate) fn findings_text(findings: &[Finding], st: &Style) -> String {
    let mut t = plain_table(vec!["SEVERITY".into(), "OBJECT".into(), "FINDING".into()]);
    for f in findings {
        let mut msg = f.message.clone();
        if let Some(fix) = &f.fix {
            msg.push_str(&format!("\nfix: {fix}"));
        }
        t.add_row(vec![st.severity(f.severity), f.object.clone(), msg]);
    }
    table_text(&mut t)
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
    out.push_str(&format!(
        "Replicas:   {} desired | {} ready | {} current | {} updated | {} available\n",
        h.replicas, h.ready_replicas, h.current_replicas, h.updated_replicas, h.available_replicas
    ));
    let same = h.current_revision == h.update_revision;
    out.push_str(&format!(
        "Revisions:  current {} | update {}{}\n",
        or_dash(&h.current_revision),
        or_dash(&h.update_revision),
        if same {
            String::new()
        } else {
            format!(" {}", st.yellow("(rollout in progress)"))
        }
    ));
    out.push_str(&format!(
        "Strategy:   {strategy} | {} | minReadySeconds {} | ordinals.start {}\n",
        h.pod_management_policy, h.min_ready_seconds, h.ordinals_start
    ));
    let verdict = if h.service_verdict == "ok" {
        st.green("ok")
    } else {
        st.red(&h.service_verdict)
    };
    out.push_str(&format!(
        "Service:    {} ({verdict}) | PVC retention: whenDeleted {}, whenScaled {}\n\n",
        or_dash(&h.service_name),
        h.pvc_retention_when_deleted,
        h.pvc_retention_when_scaled
    ));

    if let Some(c) = &rep.canary {
        let total = c.counts.len();
        // `completed` counts the steps finished before the one last started.
        let step = (c.completed + 1).min(total);
        let n = c.counts.get(step.saturating_sub(1)).copied().unwrap_or(0);
        let part = h.partition.unwrap_or(0);
        let above: Vec<_> = rep
            .ordinals
            .iter()
            .filter(|r| r.ordinal - h.ordinals_start >= part)
            .collect();
        let settled = !above.is_empty()
            && above
                .iter()
                .all(|r| r.pod.as_ref().is_some_and(|p| p.updated && p.ready));
        let state = if c.phase == crate::analysis::canary::CanaryPhase::Aborting {
            st.red("aborting")
        } else if settled && step == total && part == c.floor {
            st.green("complete")
        } else if settled {
            st.green("complete, waiting for the next step")
        } else {
            st.yellow("in progress")
        };
        out.push_str(&format!(
            "{}     {} -> {}: step {step}/{total} ({n} pod(s) updated) {state}; floor {}\n            resume: kubectl sts canary {} -n {} | roll back: kubectl sts canary {} -n {} --abort\n\n",
            st.cyan("Canary:"),
            c.from,
            c.to,
            c.floor,
            rep.name,
            rep.namespace,
            rep.name,
            rep.namespace
        ));
    }
    let mut headers: Vec<String> = [
        "ORDINAL", "POD", "READY", "STATUS", "RESTARTS", "AGE", "NODE",
    ]
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
                "live ordinals {}..{}",
                h.ordinals_start,
                h.ordinals_start + h.replicas - 1
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
            out.push_str(&format!("  {}  {}\n", c.name, claim_cell(c, wide, st)));
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
