//! DaemonSet analysis: node eligibility, per-node verdicts, the counters
//! explained, rollout budgets, findings with their health and fixes. Pure
//! (snapshot and `now` in, report out); the fleet view calls [`analyze`]
//! too, so both compute the same verdict from the same findings.

pub mod causes;
pub mod eligibility;
#[cfg(test)]
mod eligibility_tests;
mod findings;
pub mod fix;
mod report;
#[cfg(test)]
mod report_tests;
mod summary;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use self::eligibility::Blocker;
use super::finding::Finding;
use super::health::Verdict;
use super::pod;
use crate::model::DsSnapshot;

pub use self::report::analyze;

/// View filters (they never change the verdict), and the context fix
/// commands repeat.
#[derive(Clone, Debug, Default)]
pub struct DsViewOptions {
    /// `--node`: only this node's row and findings, plus the DaemonSet's own.
    pub node: Option<String>,
    /// `--only-problems`: only rows with a problem, findings above info.
    pub only_problems: bool,
    /// `--context`, when given: every fix command carries it.
    pub context: Option<String>,
    /// `--kubeconfig`, when given: every fix command carries it.
    pub kubeconfig: Option<String>,
}

/// `kubectl sts status ds/NAME -o json` (apiVersion `kubectl-sts/v1`, kind `DaemonSetStatus`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DsReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub counts: Counts,
    pub rollout: Rollout,
    /// False when nodes could not be read (eligibility not checked).
    pub nodes_checked: bool,
    pub nodes: Vec<NodeRow>,
    /// Sentences that add up to the counters.
    pub summary: Vec<String>,
    /// The health verdict, derived from every finding (before `--node` or
    /// `--only-problems` filter the rows).
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
}

/// Whether `--node NAME` names something the view knows: a node that
/// exists, or a node a daemon pod is bound to. `None` when nodes could not
/// be read and no pod names it (it cannot be told).
pub fn node_known(snap: &DsSnapshot, node: &str) -> Option<bool> {
    let has_pod = snap
        .pods
        .iter()
        .any(|p| owned_by(p, &snap.ds) && target_node(p).as_deref() == Some(node));
    match &snap.nodes {
        _ if has_pod => Some(true),
        Some(nodes) => Some(
            nodes
                .iter()
                .any(|n| n.metadata.name.as_deref() == Some(node)),
        ),
        None => None,
    }
}

/// The DaemonSet status counters as the controller reports them.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub desired: i32,
    pub current: i32,
    pub ready: i32,
    pub up_to_date: i32,
    pub available: i32,
    pub misscheduled: i32,
    pub generation: i64,
    pub observed_generation: i64,
}

/// Strategy, budgets and revisions.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub strategy: String,
    /// `controller-revision-hash` of the highest-revision ControllerRevision
    /// (the controller calls it "current"; the same as `updateHash`, kept
    /// for compatibility).
    pub current_hash: Option<String>,
    pub current_revision: Option<i64>,
    /// The revision every pod is being moved to: the highest-revision
    /// ControllerRevision (as a StatefulSet's `updateRevision`).
    pub update_hash: Option<String>,
    pub update_revision: Option<i64>,
    /// The older revisions that pods still run (empty when every pod is on
    /// the update revision).
    pub old_hashes: Vec<String>,
    /// How many ControllerRevisions the DaemonSet has.
    pub revisions: usize,
    pub min_ready_seconds: i32,
    /// Resolved against DESIRED (percentages rounded up; both 0 → 1).
    pub max_unavailable: i32,
    pub max_surge: i32,
    /// Desired nodes whose daemon pod is missing or not available.
    pub unavailable: i32,
    pub updated: i32,
    pub desired: i32,
    /// Nodes running a pod of an older revision.
    pub old_nodes: Vec<String>,
    /// Why the update does not progress, when it waits on its budget.
    pub stuck: Option<String>,
    /// Pods per revision (`[hash, count]`, the update revision first).
    pub pods_by_revision: Vec<(String, usize)>,
    /// Where the rollout stands, judged from the pods' revisions.
    pub state: RolloutState,
}

/// Where a DaemonSet's rollout stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RolloutState {
    /// Every daemon pod runs the update revision (nodes without a pod are
    /// counted under CURRENT, not as a rollout).
    #[default]
    Complete,
    /// The controller has not acted on the latest spec yet.
    NotObserved,
    /// Pods on older revisions are being replaced.
    InProgress { updated: i32, desired: i32 },
    /// The replacement waits: unavailable pods use the whole budget.
    WaitingOnBudget { updated: i32, desired: i32 },
    /// OnDelete: pods on older revisions wait to be deleted by hand.
    WaitingForDeletes { waiting: usize },
}

/// The daemon pod on a node.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodView {
    pub name: String,
    pub status: String,
    pub ready: bool,
    pub available: bool,
    pub revision: Option<String>,
    pub updated: bool,
    pub restarts: i32,
    pub age: String,
}

/// What a node's row says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum NodeState {
    /// Should run, has a Ready pod.
    Running,
    /// Should not run, has no pod.
    Excluded,
    /// Should run, has no pod object.
    Missing,
    /// Should run, its pod is not Ready.
    NotReady,
    /// Should no longer run, its pod is kept (only NoSchedule blocks it).
    Misscheduled,
    /// Should no longer run and may not stay: the controller deletes it.
    Evicting,
    /// The node no longer exists; the pod garbage collector deletes its pod.
    NodeGone,
    /// Nodes could not be read.
    Unknown,
}

impl NodeState {
    /// The name shown in the STATE column and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Running => "Running",
            NodeState::Excluded => "Excluded",
            NodeState::Missing => "Missing",
            NodeState::NotReady => "NotReady",
            NodeState::Misscheduled => "Misscheduled",
            NodeState::Evicting => "Evicting",
            NodeState::NodeGone => "NodeGone",
            NodeState::Unknown => "Unknown",
        }
    }
}

/// One node.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRow {
    pub node: String,
    /// Whether the node object exists (`None` when nodes could not be read).
    pub node_exists: Option<bool>,
    /// `None` when nodes could not be read.
    pub should_run: Option<bool>,
    pub should_continue_running: Option<bool>,
    /// Every reason the node is not eligible (all of them, not the first).
    pub blockers: Vec<Blocker>,
    pub verdict: NodeState,
    pub pod: Option<PodView>,
    /// Extra pods on the node (duplicates, surge).
    pub extra_pods: Vec<String>,
    /// Why the node has no pod, or the pod is not Ready, or should not be here.
    pub cause: Option<String>,
    pub problem: bool,
    /// The cause without this pod's particulars, for grouping.
    #[serde(skip)]
    pub cause_group: Option<String>,
}

const HASH: &str = "controller-revision-hash";

/// The node a daemon pod belongs to: `spec.nodeName`, else the injected
/// `matchFields metadata.name In [X]`.
pub fn target_node(p: &Pod) -> Option<String> {
    if let Some(n) = pod::node_name(p).filter(|n| !n.is_empty()) {
        return Some(n.to_string());
    }
    let terms = &p
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    for t in terms {
        for f in t.match_fields.iter().flatten() {
            if f.key == "metadata.name"
                && f.operator == "In"
                && let Some([v]) = f.values.as_deref()
            {
                return Some(v.clone());
            }
        }
    }
    None
}

/// The revisions owned by the DaemonSet (all of them when it has no uid).
fn owned_revisions<'a>(
    ds: &DaemonSet,
    revs: &'a [ControllerRevision],
) -> Vec<&'a ControllerRevision> {
    let uid = ds.metadata.uid.as_deref();
    revs.iter()
        .filter(|r| {
            uid.is_none()
                || r.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| Some(o.uid.as_str()) == uid && o.controller == Some(true))
        })
        .collect()
}

/// The update revision: highest `.revision` among revisions owned by the DS.
pub fn current_revision(ds: &DaemonSet, revs: &[ControllerRevision]) -> Option<(String, i64)> {
    owned_revisions(ds, revs)
        .into_iter()
        .max_by_key(|r| r.revision)
        .and_then(|r| Some((r.metadata.labels.as_ref()?.get(HASH)?.clone(), r.revision)))
}

fn owned_by(p: &Pod, ds: &DaemonSet) -> bool {
    let Some(uid) = ds.metadata.uid.as_deref() else {
        return true;
    };
    p.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.uid == uid && o.controller == Some(true))
}

/// Resolves an IntOrString budget against `total` (percentages rounded up).
pub fn resolve(v: Option<&IntOrString>, total: i32, default: i32) -> i32 {
    match v {
        None => default,
        Some(IntOrString::Int(i)) => *i,
        Some(IntOrString::String(s)) => match s
            .strip_suffix('%')
            .and_then(|p| p.trim().parse::<i64>().ok())
        {
            Some(p) => ((p * i64::from(total) + 99) / 100) as i32,
            None => default,
        },
    }
}

/// `n thing(s)`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Pods per node, sorted as the controller does (bound first, oldest, name).
fn pods_by_node<'a>(ds: &DaemonSet, pods: &'a [Pod]) -> BTreeMap<String, Vec<&'a Pod>> {
    let mut by_node: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    for p in pods {
        let terminal = matches!(pod::phase(p), "Succeeded" | "Failed");
        if !owned_by(p, ds) || (terminal && pod::is_terminating(p)) {
            continue;
        }
        if let Some(n) = target_node(p) {
            by_node.entry(n).or_default().push(p);
        }
    }
    for v in by_node.values_mut() {
        v.sort_by(|a, b| {
            let an = pod::node_name(a).is_none_or(str::is_empty);
            let bn = pod::node_name(b).is_none_or(str::is_empty);
            an.cmp(&bn)
                .then(
                    a.metadata
                        .creation_timestamp
                        .as_ref()
                        .map(|t| t.0)
                        .cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0)),
                )
                .then(a.metadata.name.cmp(&b.metadata.name))
        });
    }
    by_node
}
