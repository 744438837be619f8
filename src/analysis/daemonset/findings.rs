//! Findings before grouping, and grouping: N pods (or nodes) with the same
//! cause are one finding that names them all. Pure.

use std::collections::BTreeMap;

use super::fix::{Scope, label_command};
use crate::analysis::finding::{Finding, Severity};
use crate::analysis::health::Health;

/// How a finding's fix is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum FixPart {
    None,
    /// One command, the same for every member of a group.
    Same(String),
    /// `kubectl delete pod <every member's pod> -n NS`.
    DeletePods,
    /// `kubectl label node <every member's node> ARGS --overwrite`.
    LabelNodes(String),
}

/// One finding about one pod, node or the DaemonSet itself, before grouping.
#[derive(Clone, Debug)]
pub(super) struct Item {
    pub id: &'static str,
    pub severity: Severity,
    pub health: Health,
    /// The node it is about; `None` for the DaemonSet's own findings (they
    /// stay under `--node`).
    pub node: Option<String>,
    /// `pod/NAME`, `node/NAME` or `daemonset/NAME`.
    pub object: String,
    /// For a pod, its node: a group's message ends with `(on n0, n1)`.
    pub on_node: Option<String>,
    /// The pod it is about (for `kubectl delete pod`).
    pub pod: Option<String>,
    /// The message when it stands alone.
    pub message: String,
    /// Items with the same id, severity, health and key become one finding.
    pub key: Option<String>,
    /// The message of a group (its objects are listed in `objects`).
    pub group_message: String,
    pub fix: FixPart,
}

impl Item {
    /// A finding about the DaemonSet itself (never grouped).
    pub fn daemonset(
        id: &'static str,
        severity: Severity,
        health: Health,
        ds: &str,
        message: String,
        fix: FixPart,
    ) -> Item {
        Item {
            id,
            severity,
            health,
            node: None,
            object: format!("daemonset/{ds}"),
            on_node: None,
            pod: None,
            group_message: message.clone(),
            message,
            key: None,
            fix,
        }
    }
}

/// Groups items into findings (first-seen order; [`crate::analysis::finding::sort`]
/// orders them afterwards).
pub(super) fn group(items: &[&Item], scope: &Scope) -> Vec<Finding> {
    let mut order: Vec<Vec<&Item>> = Vec::new();
    let mut index: BTreeMap<(&str, Severity, Health, &str), usize> = BTreeMap::new();
    for it in items {
        match &it.key {
            Some(k) => {
                let slot = (it.id, it.severity, it.health, k.as_str());
                match index.get(&slot) {
                    Some(&i) => order[i].push(it),
                    None => {
                        index.insert(slot, order.len());
                        order.push(vec![it]);
                    }
                }
            }
            None => order.push(vec![it]),
        }
    }
    order
        .into_iter()
        .map(|members| {
            let first = members[0];
            let message = if members.len() == 1 {
                first.message.clone()
            } else {
                let nodes: Vec<&str> = members
                    .iter()
                    .filter_map(|m| m.on_node.as_deref())
                    .collect();
                if nodes.is_empty() {
                    first.group_message.clone()
                } else {
                    format!("{} (on {})", first.group_message, nodes.join(", "))
                }
            };
            let mut f = Finding::new(first.id, first.severity, first.object.clone(), message)
                .health(first.health);
            if members.len() > 1 {
                f.objects = members.iter().map(|m| m.object.clone()).collect();
            }
            match &first.fix {
                FixPart::None => {}
                FixPart::Same(s) => f = f.fix(s.clone()),
                FixPart::DeletePods => {
                    let pods: Vec<&str> = members.iter().filter_map(|m| m.pod.as_deref()).collect();
                    if !pods.is_empty() {
                        f = f.fix(scope.kubectl(&format!("delete pod {}", pods.join(" "))));
                    }
                }
                FixPart::LabelNodes(args) => {
                    let nodes: Vec<&str> =
                        members.iter().filter_map(|m| m.node.as_deref()).collect();
                    f = f.fix(label_command(scope, &nodes, args));
                }
            }
            f
        })
        .collect()
}
