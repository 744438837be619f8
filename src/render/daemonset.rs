//! The DaemonSet view, in the StatefulSet view's look: a header of `Key:`
//! lines, one row per node, the summary lines, the findings table. Pure:
//! report in, string out.

use super::Style;
use super::statefulset::{findings_text, health_line, plain_table, table_text};
use crate::analysis::daemonset::{DsReport, NodeState, Rollout, RolloutState};
use crate::analysis::finding::Severity;

fn yn(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// `6856db577c (update, revision 2): 1 pod(s) | 6b7dbcfc4b (old): 2 pod(s)`.
fn revisions(r: &Rollout) -> String {
    let update = r.update_hash.as_deref().unwrap_or("-");
    let tag = |h: &str| {
        if h == update {
            match r.update_revision {
                Some(n) => format!("update, revision {n}"),
                None => "update".to_string(),
            }
        } else {
            "old".to_string()
        }
    };
    let mut parts: Vec<String> = r
        .pods_by_revision
        .iter()
        .map(|(h, n)| format!("{h} ({}): {n} pod(s)", tag(h)))
        .collect();
    if !r.pods_by_revision.iter().any(|(h, _)| h == update) {
        parts.insert(0, format!("{update} ({}): no pods yet", tag(update)));
    }
    parts.join(" | ")
}

fn rollout_text(rep: &DsReport) -> String {
    let c = &rep.counts;
    match rep.rollout.state {
        RolloutState::Complete => "complete: every daemon pod runs the update revision".into(),
        RolloutState::NotObserved => format!(
            "spec change not yet observed (generation {}, observed {})",
            c.generation, c.observed_generation
        ),
        RolloutState::InProgress { updated, desired } => {
            format!("in progress: {updated} of {desired} nodes updated")
        }
        RolloutState::WaitingOnBudget { updated, desired } => format!(
            "waiting: {updated} of {desired} nodes updated, unavailable pods use the whole maxUnavailable={} budget",
            rep.rollout.max_unavailable
        ),
        RolloutState::WaitingForDeletes { waiting } => {
            format!("OnDelete: {waiting} pod(s) wait to be deleted by hand")
        }
    }
}

fn header(rep: &DsReport, st: &Style) -> String {
    let c = &rep.counts;
    let r = &rep.rollout;
    let mut out = format!("{} {}/{}\n", st.bold("DaemonSet"), rep.namespace, rep.name);
    out.push_str(&health_line(&rep.verdict, st));
    out.push_str(&format!(
        "Pods:       {} desired | {} current | {} ready | {} updated | {} available | {} misscheduled\n",
        c.desired, c.current, c.ready, c.up_to_date, c.available, c.misscheduled
    ));
    out.push_str(&format!("Revisions:  {}\n", revisions(r)));
    out.push_str(&format!("Rollout:    {}\n", rollout_text(rep)));
    let strategy = if r.strategy == "RollingUpdate" {
        format!(
            "RollingUpdate (maxUnavailable {}, maxSurge {})",
            r.max_unavailable, r.max_surge
        )
    } else {
        r.strategy.clone()
    };
    out.push_str(&format!(
        "Strategy:   {strategy} | minReadySeconds {}\n\n",
        r.min_ready_seconds
    ));
    out
}

/// The table view (`wide` adds pod restarts, age, extra pods).
pub fn ds_table(rep: &DsReport, wide: bool, st: &Style) -> String {
    let mut out = header(rep, st);
    let mut headers = vec![
        "NODE",
        "SHOULD-RUN",
        "MAY-STAY",
        "STATE",
        "POD",
        "STATUS",
        "REVISION",
        "WHY",
    ];
    if wide {
        headers.extend(["RESTARTS", "AGE", "EXTRA-PODS"]);
    }
    let mut t = plain_table(headers.iter().map(|s| s.to_string()).collect());
    for r in &rep.nodes {
        let name = r.verdict.as_str();
        let state = match r.verdict {
            NodeState::Running => st.green(name),
            NodeState::Excluded => st.dim(name),
            NodeState::Unknown | NodeState::NodeGone | NodeState::Evicting => name.to_string(),
            _ => st.red(name),
        };
        let pod = r.pod.as_ref();
        let dash = || "-".to_string();
        let rev = pod
            .map(|p| {
                let h = p.revision.clone().unwrap_or_else(|| "?".into());
                if p.updated {
                    format!("{h} (update)")
                } else {
                    format!("{h} (old)")
                }
            })
            .unwrap_or_else(dash);
        let mut row = vec![
            r.node.clone(),
            yn(r.should_run).into(),
            yn(r.should_continue_running).into(),
            state,
            pod.map(|p| p.name.clone()).unwrap_or_else(dash),
            pod.map(|p| p.status.clone()).unwrap_or_else(dash),
            rev,
            r.cause.clone().unwrap_or_else(dash),
        ];
        if wide {
            row.push(pod.map(|p| p.restarts.to_string()).unwrap_or_else(dash));
            row.push(pod.map(|p| p.age.clone()).unwrap_or_else(dash));
            row.push(if r.extra_pods.is_empty() {
                dash()
            } else {
                r.extra_pods.join(",")
            });
        }
        t.add_row(row);
    }
    if rep.nodes.is_empty() {
        out.push_str("No nodes to show.\n");
    } else {
        out.push_str(&table_text(&mut t));
        out.push('\n');
    }
    out.push('\n');
    for s in &rep.summary {
        out.push_str(&format!("{s}\n"));
    }
    if !rep.findings.is_empty() {
        out.push('\n');
        out.push_str(&findings_text(&rep.findings, st));
        out.push('\n');
    }
    let problem = |s: Option<Severity>| s.is_some_and(|s| s > Severity::Info);
    if !problem(rep.verdict.worst) {
        out.push_str(&format!("\n{}\n", st.green("No problems found.")));
    } else if !problem(rep.findings.iter().map(|f| f.severity).max()) {
        out.push_str("\nNo problems on the nodes shown (the Health line covers every node).\n");
    }
    for n in &rep.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.trim_end().to_string()
}
