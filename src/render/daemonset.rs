//! The DaemonSet view. Pure: report in, string out.

use super::Style;
use super::statefulset::{plain_table, table_text};
use crate::analysis::daemonset::DsReport;
use crate::analysis::finding::Severity;

fn yn(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// The table view (`wide` adds pod name, restarts, age, extra pods).
pub fn ds_table(rep: &DsReport, wide: bool, st: &Style) -> String {
    let c = &rep.counts;
    let mut out = String::new();
    let mut head = plain_table(
        [
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "MISSCHEDULED",
            "STRATEGY",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    );
    let strat = if rep.rollout.strategy == "RollingUpdate" {
        format!(
            "RollingUpdate maxUnavailable={} maxSurge={}",
            rep.rollout.max_unavailable, rep.rollout.max_surge
        )
    } else {
        rep.rollout.strategy.clone()
    };
    head.add_row(vec![
        c.desired.to_string(),
        c.current.to_string(),
        c.ready.to_string(),
        c.up_to_date.to_string(),
        c.available.to_string(),
        c.misscheduled.to_string(),
        strat,
    ]);
    out.push_str(&format!("daemonset/{} in {}", rep.name, rep.namespace));
    if let Some(h) = &rep.rollout.current_hash {
        out.push_str(&format!(
            " (current revision {} {h})",
            rep.rollout.current_revision.unwrap_or(0)
        ));
    }
    out.push('\n');
    out.push_str(&table_text(&mut head));
    out.push_str("\n\n");

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
        let state = match r.verdict.as_str() {
            "Running" => st.green("Running"),
            "Excluded" => st.dim("Excluded"),
            "Unknown" => r.verdict.clone(),
            v => st.red(v),
        };
        let pod = r
            .pod
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "-".into());
        let status = r
            .pod
            .as_ref()
            .map(|p| p.status.clone())
            .unwrap_or_else(|| "-".into());
        let rev = r
            .pod
            .as_ref()
            .map(|p| {
                let h = p.revision.clone().unwrap_or_else(|| "?".into());
                if p.updated { h } else { format!("{h} (old)") }
            })
            .unwrap_or_else(|| "-".into());
        let why = r.cause.clone().unwrap_or_else(|| "-".into());
        let mut row = vec![
            r.node.clone(),
            yn(r.should_run).into(),
            yn(r.should_continue_running).into(),
            state,
            pod,
            status,
            rev,
            why,
        ];
        if wide {
            row.push(
                r.pod
                    .as_ref()
                    .map(|p| p.restarts.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
            row.push(
                r.pod
                    .as_ref()
                    .map(|p| p.age.clone())
                    .unwrap_or_else(|| "-".into()),
            );
            row.push(if r.extra_pods.is_empty() {
                "-".into()
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
    if !rep.findings.iter().any(|f| f.severity > Severity::Info) {
        out.push_str("\nNo problems found.\n");
    }
    if !rep.findings.is_empty() {
        out.push('\n');
        for f in &rep.findings {
            out.push_str(&format!(
                "{} {}: {}\n",
                st.severity(f.severity),
                f.object,
                f.message
            ));
            if let Some(fix) = &f.fix {
                out.push_str(&format!("  fix: {fix}\n"));
            }
        }
    }
    out.trim_end().to_string()
}
