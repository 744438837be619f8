//! The DaemonSet view, in the StatefulSet view's look: a header of `Key:`
//! lines, one row per node, the summary lines, the findings table. Pure:
//! report in, string out.

use super::Style;
use super::statefulset::{findings_text, plain_table, table_text};
use crate::analysis::daemonset::{DsReport, NodeState};
use crate::analysis::finding::Severity;
use crate::analysis::health::Health;

fn yn(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

fn health(h: Health, st: &Style) -> String {
    match h {
        Health::Healthy | Health::ScaledToZero => st.green(h.as_str()),
        Health::Progressing | Health::Paused => st.yellow(h.as_str()),
        Health::Degraded | Health::Stalled => st.red(h.as_str()),
    }
}

fn header(rep: &DsReport, st: &Style) -> String {
    let c = &rep.counts;
    let r = &rep.rollout;
    let mut out = format!("{} {}/{}\n", st.bold("DaemonSet"), rep.namespace, rep.name);
    let v = &rep.verdict;
    out.push_str(&format!("Health:     {}", health(v.health, st)));
    if !v.reason.is_empty() {
        out.push_str(&format!(" ({})", v.reason));
    }
    out.push('\n');
    out.push_str(&format!(
        "Pods:       {} desired | {} current | {} ready | {} updated | {} available | {} misscheduled\n",
        c.desired, c.current, c.ready, c.up_to_date, c.available, c.misscheduled
    ));
    let update = r.update_hash.as_deref().unwrap_or("-");
    let current = if r.old_hashes.is_empty() {
        update.to_string()
    } else {
        r.old_hashes.join(", ")
    };
    out.push_str(&format!("Revisions:  current {current} | update {update}"));
    if let Some(n) = r.update_revision {
        out.push_str(&format!(" (revision {n})"));
    }
    if !r.old_hashes.is_empty() {
        out.push_str(&format!(" {}", st.yellow("(rollout in progress)")));
    }
    out.push('\n');
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
                if p.updated { h } else { format!("{h} (old)") }
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
