//! The summary lines: each counter as arithmetic over the node rows. Pure.

use std::collections::BTreeMap;

use super::report::signature;
use super::{Counts, NodeRow, NodeState, Rollout, plural};

/// `cause (n1, n2); cause2 (n3)`, causes in first-seen order.
fn by_cause<'a>(rows: impl Iterator<Item = (&'a str, String)>) -> String {
    let mut order: Vec<String> = Vec::new();
    let mut nodes: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (node, cause) in rows {
        if !nodes.contains_key(&cause) {
            order.push(cause.clone());
        }
        nodes.entry(cause).or_default().push(node);
    }
    order
        .iter()
        .map(|c| format!("{c} ({})", nodes[c].join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// DESIRED, CURRENT, READY, MISSCHEDULED, pods not counted, UP-TO-DATE.
pub(super) fn lines(
    c: &Counts,
    rows: &[NodeRow],
    node_count: Option<usize>,
    create_cause: Option<&str>,
    r: &Rollout,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(total) = node_count {
        // only nodes that exist: a deleted node is in neither term
        let mut groups: BTreeMap<String, usize> = BTreeMap::new();
        for row in rows
            .iter()
            .filter(|x| x.node_exists == Some(true) && x.should_run == Some(false))
        {
            *groups.entry(signature(&row.blockers)).or_default() += 1;
        }
        let mut s = format!("DESIRED {} = {}", c.desired, plural(total, "node", "nodes"));
        for (g, n) in &groups {
            s.push_str(&format!(" − {n} {g}"));
        }
        let predicted = total - groups.values().sum::<usize>();
        if predicted as i32 != c.desired {
            let gone = rows.iter().any(|x| x.verdict == NodeState::NodeGone);
            s.push_str(&format!(
                " (the nodes say {predicted}; {})",
                if gone {
                    "the controller does not re-sync when a node is deleted: it counts again when the pod garbage collector removes the pod"
                } else {
                    "the controller has not caught up yet"
                }
            ));
        }
        out.push(s);
    }
    let missing: Vec<&NodeRow> = rows
        .iter()
        .filter(|x| x.verdict == NodeState::Missing)
        .collect();
    if missing.is_empty() {
        out.push(format!(
            "CURRENT {}: every desired node has a daemon pod",
            c.current
        ));
    } else {
        let desired = rows.iter().filter(|x| x.should_run == Some(true)).count();
        let list = missing
            .iter()
            .map(|x| x.node.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let (nodes, why) = match create_cause {
            Some(m) => (format!(" ({list})"), m.to_string()),
            None => (
                String::new(),
                by_cause(
                    missing
                        .iter()
                        .map(|x| (x.node.as_str(), x.cause.clone().unwrap_or_default())),
                ),
            ),
        };
        out.push(format!(
            "CURRENT {}: {} of {desired} desired nodes {} no daemon pod{nodes}: {why}",
            c.current,
            missing.len(),
            if missing.len() == 1 { "has" } else { "have" }
        ));
    }
    let nr: Vec<&NodeRow> = rows
        .iter()
        .filter(|x| x.verdict == NodeState::NotReady)
        .collect();
    if nr.is_empty() {
        out.push(format!("READY {}: every daemon pod is Ready", c.ready));
    } else {
        out.push(format!(
            "READY {}: {} not Ready: {}",
            c.ready,
            plural(nr.len(), "pod", "pods"),
            by_cause(
                nr.iter()
                    .map(|x| { (x.node.as_str(), x.cause_group.clone().unwrap_or_default(),) })
            )
        ));
    }
    let ms: Vec<String> = rows
        .iter()
        .filter(|x| matches!(x.verdict, NodeState::Misscheduled | NodeState::Evicting))
        .map(|x| {
            let what = if x.verdict == NodeState::Misscheduled {
                "kept"
            } else {
                "being deleted"
            };
            format!("{}: {} ({what})", x.node, signature_or_describe(x))
        })
        .collect();
    if c.misscheduled > 0 || !ms.is_empty() {
        let mut s = format!("MISSCHEDULED {}: {}", c.misscheduled, ms.join("; "));
        if ms.len() as i32 != c.misscheduled {
            s.push_str(&format!(
                " (the nodes say {}: the controller has not re-synced the DaemonSet since the node changed; it counts on its next sync)",
                ms.len()
            ));
        }
        out.push(s);
    }
    let gone: Vec<String> = rows
        .iter()
        .filter(|x| x.verdict == NodeState::NodeGone)
        .filter_map(|x| x.pod.as_ref().map(|p| format!("{} on {}", p.name, x.node)))
        .collect();
    if !gone.is_empty() {
        out.push(format!(
            "NOT COUNTED: {} bound to deleted nodes ({}): the pod garbage collector deletes them about 40 s after the node went away; the DaemonSet controller counts them nowhere",
            plural(gone.len(), "pod", "pods"),
            gone.join(", ")
        ));
    }
    if let Some(s) = &r.stuck {
        out.push(format!("UP-TO-DATE {s}"));
    } else if !r.old_nodes.is_empty() {
        let how = if r.strategy == "OnDelete" {
            "OnDelete: waiting for the old pods to be deleted by hand"
        } else {
            "rollout in progress"
        };
        out.push(format!(
            "UP-TO-DATE {}/{}: {how}, {} on an older revision ({})",
            r.updated,
            r.desired,
            plural(r.old_nodes.len(), "node", "nodes"),
            r.old_nodes.join(", ")
        ));
    } else if r.updated < r.desired {
        let why = if missing.is_empty() {
            "the controller has not counted them yet".to_string()
        } else {
            format!(
                "{} no daemon pod (see CURRENT)",
                plural(missing.len(), "desired node has", "desired nodes have")
            )
        };
        out.push(format!(
            "UP-TO-DATE {}/{}: every daemon pod runs the update revision; {why}",
            r.updated, r.desired
        ));
    }
    out
}

/// The blockers of a misscheduled row (every one), or why it has none.
fn signature_or_describe(x: &NodeRow) -> String {
    if x.blockers.is_empty() {
        "node gone".to_string()
    } else {
        x.blockers
            .iter()
            .map(super::eligibility::Blocker::describe)
            .collect::<Vec<_>>()
            .join("; ")
    }
}
