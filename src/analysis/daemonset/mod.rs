//! DaemonSet analysis: node eligibility, per-node verdicts, the counters
//! explained, rollout budgets. Pure (snapshot and `now` in, report out).

pub mod eligibility;
#[cfg(test)]
mod eligibility_tests;
#[cfg(test)]
mod report_tests;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use self::eligibility::{Blocker, Eligibility, taint_text};
use super::finding::{self, Finding, Severity};
use super::pod;
use crate::model::DsSnapshot;

/// View filters.
#[derive(Clone, Debug, Default)]
pub struct DsViewOptions {
    pub node: Option<String>,
    pub only_problems: bool,
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
    pub verdict: crate::analysis::health::Verdict,
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
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
    /// `controller-revision-hash` of the highest-revision ControllerRevision.
    pub current_hash: Option<String>,
    pub current_revision: Option<i64>,
    /// Resolved against DESIRED (percentages rounded up; both 0 → 1).
    pub max_unavailable: i32,
    pub max_surge: i32,
    /// Desired nodes whose daemon pod is missing or not available.
    pub unavailable: i32,
    pub updated: i32,
    pub desired: i32,
    /// Nodes running a pod of an older revision.
    pub old_nodes: Vec<String>,
    /// Why the update does not progress, when it does not.
    pub stuck: Option<String>,
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

/// One node.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRow {
    pub node: String,
    /// `None` when nodes could not be read.
    pub should_run: Option<bool>,
    pub should_continue_running: Option<bool>,
    pub blockers: Vec<Blocker>,
    /// `Running`, `Excluded`, `Missing`, `NotReady`, `Misscheduled`, `Evicting`, `Unknown`.
    pub verdict: String,
    pub pod: Option<PodView>,
    /// Extra pods on the node (duplicates, surge).
    pub extra_pods: Vec<String>,
    /// Why the node has no pod, or the pod is not Ready, or should not be here.
    pub cause: Option<String>,
    pub problem: bool,
}

const HASH: &str = "controller-revision-hash";
const TPL_GEN: &str = "pod-template-generation";
const TPL_GEN_ANN: &str = "deprecated.daemonset.template.generation";

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

fn is_terminal(p: &Pod) -> bool {
    matches!(pod::phase(p), "Succeeded" | "Failed")
}

/// The current revision: highest `.revision` among revisions owned by the DS.
pub fn current_revision(ds: &DaemonSet, revs: &[ControllerRevision]) -> Option<(String, i64)> {
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

/// Latest event message for an object with the given reason.
fn latest_event<'a>(
    events: &'a [Event],
    kind: &str,
    name: &str,
    reason: &str,
) -> Option<&'a Event> {
    events
        .iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some(kind)
                && e.involved_object.name.as_deref() == Some(name)
        })
        .filter(|e| e.reason.as_deref() == Some(reason))
        .max_by_key(|e| {
            e.last_timestamp
                .as_ref()
                .map(|t| t.0)
                .or(e.event_time.as_ref().map(|t| t.0))
        })
}

/// Why a pod is not Ready, in the terms the user can act on.
pub fn not_ready_cause(p: &Pod) -> String {
    if pod::is_terminating(p) {
        return "pod is terminating".to_string();
    }
    if pod::phase(p) == "Failed" {
        let r = p
            .status
            .as_ref()
            .and_then(|s| s.reason.clone())
            .unwrap_or_else(|| "Failed".into());
        return format!(
            "pod Failed ({r}); the controller deletes and recreates it with back-off (1s doubling to 15m)"
        );
    }
    if let Some(m) = pod::unschedulable_message(p) {
        return format!("Pending, not scheduled: {m}");
    }
    if let Some((c, reason, msg)) = pod::container_problem(p) {
        let msg = if msg.is_empty() {
            String::new()
        } else {
            format!(": {msg}")
        };
        return match reason.as_str() {
            "CrashLoopBackOff" => format!(
                "container {c} CrashLoopBackOff after {} restarts{msg}",
                pod::restarts(p)
            ),
            "ImagePullBackOff" | "ErrImagePull" => {
                let img = p
                    .spec
                    .as_ref()
                    .and_then(|s| s.containers.iter().find(|x| x.name == c))
                    .and_then(|x| x.image.clone())
                    .unwrap_or_default();
                format!("container {c} {reason}: image {img} cannot be pulled{msg}")
            }
            _ => format!("container {c} {reason}{msg}"),
        };
    }
    match pod::phase(p) {
        "Running" => {
            let msg = p
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
                .and_then(|c| c.message.clone())
                .unwrap_or_default();
            if msg.is_empty() {
                "Running but readiness failing".to_string()
            } else {
                format!("Running but readiness failing ({msg})")
            }
        }
        "Pending" if pod::node_name(p).is_none() => {
            "Pending, waiting for the scheduler".to_string()
        }
        ph => format!("{ph}, containers not ready yet"),
    }
}

fn blocker_group(b: &Blocker) -> String {
    match b {
        Blocker::Taint { key, value, effect } => {
            format!("tainted {}", taint_text(key, value, effect))
        }
        Blocker::NodeSelector { key, want, .. } => format!("without {key}={want}"),
        Blocker::NodeAffinity { .. } => "not matching the required node affinity".to_string(),
        Blocker::NodeName { pinned_to } => format!("not {pinned_to} (template nodeName)"),
    }
}

const INTENDED_TAINTS: &[&str] = &[
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/network-unavailable",
];

fn blocker_fix(b: &Blocker, node: &str) -> (bool, String) {
    match b {
        Blocker::Taint { key, effect, .. }
            if key == "node.kubernetes.io/not-ready" || key == "node.kubernetes.io/unreachable" =>
        {
            (
                true,
                format!(
                    "intended: node {node} is NotReady ({key}:{effect}); it counts again once Ready"
                ),
            )
        }
        Blocker::Taint { key, value, effect } => {
            let tol = if value.is_empty() {
                format!("tolerations: [{{key: {key}, operator: Exists, effect: {effect}}}]")
            } else {
                format!(
                    "tolerations: [{{key: {key}, operator: Equal, value: \"{value}\", effect: {effect}}}]"
                )
            };
            let intended = INTENDED_TAINTS.contains(&key.as_str());
            let pre = if intended {
                "intended exclusion; to run there anyway add to spec.template.spec: "
            } else {
                "add to spec.template.spec: "
            };
            (intended, format!("{pre}{tol}"))
        }
        Blocker::NodeSelector { key, want, .. } => (
            false,
            format!(
                "kubectl label node {node} {key}={want} --overwrite (if the node should run it)"
            ),
        ),
        Blocker::NodeAffinity { .. } => (
            false,
            "relabel the node or widen spec.template.spec.affinity.nodeAffinity".to_string(),
        ),
        Blocker::NodeName { .. } => (
            true,
            "remove spec.template.spec.nodeName to run on every node".to_string(),
        ),
    }
}

/// Analyzes a DaemonSet snapshot.
pub fn analyze(snap: &DsSnapshot, opts: &DsViewOptions, now: Timestamp) -> DsReport {
    let ds = &snap.ds;
    let name = ds.metadata.name.clone().unwrap_or_default();
    let namespace = ds.metadata.namespace.clone().unwrap_or_default();
    let spec = ds.spec.clone().unwrap_or_default();
    let st = ds.status.clone().unwrap_or_default();
    let counts = Counts {
        desired: st.desired_number_scheduled,
        current: st.current_number_scheduled,
        ready: st.number_ready,
        up_to_date: st.updated_number_scheduled.unwrap_or(0),
        available: st.number_available.unwrap_or(0),
        misscheduled: st.number_misscheduled,
        generation: ds.metadata.generation.unwrap_or(0),
        observed_generation: st.observed_generation.unwrap_or(0),
    };
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let cur = current_revision(ds, &snap.revisions);
    let tpl_gen = ds
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(TPL_GEN_ANN))
        .cloned();
    let is_updated = |p: &Pod| {
        cur.as_ref()
            .is_some_and(|(h, _)| pod::label(p, HASH) == Some(h.as_str()))
            || tpl_gen
                .as_deref()
                .is_some_and(|g| pod::label(p, TPL_GEN) == Some(g))
    };

    // pods per node, sorted as the controller does
    let mut by_node: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    for p in &snap.pods {
        if !owned_by(p, ds) || (is_terminal(p) && pod::is_terminating(p)) {
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

    let template = spec.template.clone();
    let mut verdicts: BTreeMap<String, Option<Eligibility>> = BTreeMap::new();
    let mut notes = snap.notes.clone();
    match &snap.nodes {
        Some(nodes) => {
            for n in nodes {
                let nn = n.metadata.name.clone().unwrap_or_default();
                verdicts.insert(nn, Some(eligibility::should_run(n, &template)));
            }
            for n in by_node.keys() {
                verdicts.entry(n.clone()).or_insert(None);
            }
        }
        None => {
            notes.push("nodes could not be read: which nodes should run a daemon pod (taints, labels, readiness) was not checked; rows come from the pods only".to_string());
            for n in by_node.keys() {
                verdicts.insert(n.clone(), None);
            }
        }
    }

    let failed_create = latest_event(&snap.events, "DaemonSet", &name, "FailedCreate")
        .map(|e| e.message.clone().unwrap_or_default());
    let mut findings = Vec::new();
    let mut rows = Vec::new();
    let mut excluded: BTreeMap<String, (String, Blocker, usize)> = BTreeMap::new();
    for (node, el) in &verdicts {
        let pods = by_node.get(node).cloned().unwrap_or_default();
        let first = pods.first().copied();
        let pv = first.map(|p| PodView {
            name: p.metadata.name.clone().unwrap_or_default(),
            status: pod::display_status(p),
            ready: pod::is_ready(p),
            available: pod::is_available(p, min_ready, now),
            revision: pod::label(p, HASH).map(str::to_string),
            updated: is_updated(p),
            restarts: pod::restarts(p),
            age: pod::age(p.metadata.creation_timestamp.as_ref().map(|t| t.0), now),
        });
        let extra: Vec<String> = pods
            .iter()
            .skip(1)
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        let (should_run, cont, blockers) = match el {
            Some(e) => (
                Some(e.should_run),
                Some(e.should_continue_running),
                e.blockers.clone(),
            ),
            None if snap.nodes.is_some() => (Some(false), Some(false), vec![]),
            None => (None, None, vec![]),
        };
        let obj = format!("node/{node}");
        let (verdict, cause, problem) = match (should_run, first) {
            (Some(true), None) => {
                let bo = latest_event(&snap.events, "DaemonSet", &name, "FailedDaemonPod")
                    .and_then(|e| e.message.clone())
                    .filter(|m| m.contains(&format!("on node {node}")));
                let cause = if let Some(m) = &failed_create {
                    format!("pod creation fails (FailedCreate on the DaemonSet): {m}")
                } else if let Some(m) = bo {
                    format!(
                        "a Failed pod was deleted and its replacement waits on the back-off: {m}"
                    )
                } else {
                    "no pod yet: the controller has not created it (just added, or waiting on earlier creations)".to_string()
                };
                let sev = if failed_create.is_some() {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                let mut f = Finding::new(
                    "ds.pod.missing",
                    sev,
                    &obj,
                    format!("no daemon pod on {node}: {cause}"),
                );
                if failed_create.is_some() {
                    f = f.fix(format!("kubectl get events -n {namespace} --field-selector involvedObject.name={name},reason=FailedCreate; fix the quota/admission rule named there"));
                }
                findings.push(f);
                ("Missing", Some(cause), true)
            }
            (Some(true), Some(p)) if !pod::is_ready(p) => {
                let cause = not_ready_cause(p);
                let sev = if pod::container_problem(p).is_some() || pod::phase(p) == "Failed" {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                let f = Finding::new(
                    "ds.pod.not_ready",
                    sev,
                    format!("pod/{}", p.metadata.name.clone().unwrap_or_default()),
                    format!("daemon pod on {node} not Ready: {cause}"),
                );
                findings.push(f);
                ("NotReady", Some(cause), true)
            }
            (Some(true), Some(_)) => ("Running", None, false),
            (Some(false), None) => {
                let first_b = blockers.first();
                let cause = first_b.map(Blocker::describe);
                if let Some(b) = first_b {
                    excluded
                        .entry(blocker_group(b))
                        .or_insert_with(|| (node.clone(), b.clone(), 0))
                        .2 += 1;
                }
                ("Excluded", cause, false)
            }
            (Some(false), Some(_)) => {
                let why = if blockers.is_empty() {
                    "the node no longer exists".to_string()
                } else {
                    blockers
                        .iter()
                        .map(Blocker::describe)
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                let (v, cause) = if cont == Some(true) {
                    (
                        "Misscheduled",
                        format!(
                            "should no longer run here ({why}); kept because no NoExecute taint evicts it, counted in MISSCHEDULED"
                        ),
                    )
                } else {
                    (
                        "Evicting",
                        format!("should no longer run here ({why}); the controller deletes it"),
                    )
                };
                let mut f = Finding::new(
                    "ds.pod.misscheduled",
                    Severity::Warning,
                    &obj,
                    format!("daemon pod on {node}: {cause}"),
                );
                if let Some(b) = blockers.first() {
                    f = f.fix(blocker_fix(b, node).1);
                }
                findings.push(f);
                (v, Some(cause), true)
            }
            (None, Some(p)) if !pod::is_ready(p) => {
                let cause = not_ready_cause(p);
                findings.push(Finding::new(
                    "ds.pod.not_ready",
                    Severity::Warning,
                    format!("pod/{}", p.metadata.name.clone().unwrap_or_default()),
                    format!("daemon pod on {node} not Ready: {cause}"),
                ));
                ("NotReady", Some(cause), true)
            }
            (None, _) => ("Unknown", None, false),
        };
        rows.push(NodeRow {
            node: node.clone(),
            should_run,
            should_continue_running: cont,
            blockers,
            verdict: verdict.to_string(),
            pod: pv,
            extra_pods: extra,
            cause,
            problem,
        });
    }

    for (group, (node, b, n)) in &excluded {
        let (intended, fix) = blocker_fix(b, node);
        let what = if *n == 1 {
            format!("node {node}")
        } else {
            format!("{n} nodes (e.g. {node})")
        };
        let msg = format!(
            "{what} excluded, {group}: {}{}",
            b.describe(),
            if intended { " (intended)" } else { "" }
        );
        let obj = if *n == 1 {
            format!("node/{node}")
        } else {
            "nodes".to_string()
        };
        findings.push(Finding::new("ds.node.excluded", Severity::Info, obj, msg).fix(fix));
    }

    // rollout
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    let stype = strategy
        .type_
        .clone()
        .unwrap_or_else(|| "RollingUpdate".into());
    let desired = counts.desired;
    let (mut mu, ms) = if stype == "RollingUpdate" {
        let ru = strategy.rolling_update.clone().unwrap_or_default();
        (
            resolve(ru.max_unavailable.as_ref(), desired, 1),
            resolve(ru.max_surge.as_ref(), desired, 0),
        )
    } else {
        (0, 0)
    };
    if stype == "RollingUpdate" && mu == 0 && ms == 0 && desired > 0 {
        mu = 1;
    }
    let desired_rows: Vec<&NodeRow> = rows.iter().filter(|r| r.should_run == Some(true)).collect();
    let unavailable_nodes: Vec<&NodeRow> = desired_rows
        .iter()
        .copied()
        .filter(|r| r.pod.as_ref().is_none_or(|p| !p.available))
        .collect();
    let old_nodes: Vec<String> = rows
        .iter()
        .filter(|r| r.pod.as_ref().is_some_and(|p| !p.updated))
        .map(|r| r.node.clone())
        .collect();
    let updated = counts.up_to_date;
    let mut stuck = None;
    let settled = counts.observed_generation >= counts.generation;
    if settled && cur.is_some() && !old_nodes.is_empty() {
        if stype == "OnDelete" {
            let pods: Vec<String> = rows
                .iter()
                .filter(|r| r.pod.as_ref().is_some_and(|p| !p.updated))
                .filter_map(|r| r.pod.as_ref().map(|p| p.name.clone()))
                .collect();
            let msg = format!(
                "{updated}/{desired} updated: updateStrategy OnDelete, {} pod(s) on an older revision wait to be deleted by hand: kubectl delete pod -n {namespace} {}",
                pods.len(),
                pods.join(" ")
            );
            findings.push(Finding::new(
                "ds.rollout.ondelete",
                Severity::Info,
                format!("daemonset/{name}"),
                msg.clone(),
            ));
            stuck = Some(msg);
        } else if ms == 0 && unavailable_nodes.len() as i32 >= mu {
            let un: Vec<String> = unavailable_nodes.iter().map(|r| r.node.clone()).collect();
            let waiting = old_nodes.iter().filter(|n| !un.contains(n)).count();
            let msg = format!(
                "{updated}/{desired} updated: {waiting} node(s) wait because {} unavailable pod(s) ({}) use the whole maxUnavailable={mu} budget",
                un.len(),
                un.join(", ")
            );
            findings.push(
                Finding::new("ds.rollout.stuck", Severity::Warning, format!("daemonset/{name}"), msg.clone())
                    .fix("make the unavailable pods Ready (see their causes above), or raise spec.updateStrategy.rollingUpdate.maxUnavailable"),
            );
            stuck = Some(msg);
        }
    }
    let rollout = Rollout {
        strategy: stype,
        current_hash: cur.as_ref().map(|c| c.0.clone()),
        current_revision: cur.as_ref().map(|c| c.1),
        max_unavailable: mu,
        max_surge: ms,
        unavailable: unavailable_nodes.len() as i32,
        updated,
        desired,
        old_nodes,
        stuck,
    };

    let summary = summarize(
        &counts,
        &rows,
        snap.nodes.as_ref().map(Vec::len),
        failed_create.as_deref(),
        &rollout,
    );
    finding::sort(&mut findings);

    // filters
    if let Some(n) = &opts.node {
        rows.retain(|r| &r.node == n);
        findings.retain(|f| {
            f.object == format!("node/{n}")
                || rows.iter().any(|r| {
                    r.pod
                        .as_ref()
                        .is_some_and(|p| f.object == format!("pod/{}", p.name))
                })
        });
    }
    if opts.only_problems {
        rows.retain(|r| r.problem);
        findings.retain(|f| f.severity > Severity::Info);
    }
    let counts_desired = counts.desired;
    DsReport {
        api_version: "kubectl-sts/v1",
        kind: "DaemonSetStatus",
        name,
        namespace,
        counts,
        rollout,
        nodes_checked: snap.nodes.is_some(),
        nodes: rows,
        summary,
        verdict: crate::analysis::health::verdict(&findings, counts_desired == 0),
        findings,
        notes,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summarize(
    c: &Counts,
    rows: &[NodeRow],
    node_count: Option<usize>,
    failed_create: Option<&str>,
    r: &Rollout,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(total) = node_count {
        let mut groups: BTreeMap<String, usize> = BTreeMap::new();
        for row in rows.iter().filter(|x| x.should_run == Some(false)) {
            let g = row
                .blockers
                .first()
                .map(blocker_group)
                .unwrap_or_else(|| "no longer existing".into());
            *groups.entry(g).or_default() += 1;
        }
        let mut s = format!("DESIRED {} = {}", c.desired, plural(total, "node", "nodes"));
        for (g, n) in &groups {
            s.push_str(&format!(" − {n} {g}"));
        }
        let predicted = rows.iter().filter(|x| x.should_run == Some(true)).count();
        if predicted as i32 != c.desired {
            s.push_str(&format!(
                " (nodes say {predicted}; the controller has not caught up yet)"
            ));
        }
        out.push(s);
    }
    let missing: Vec<&NodeRow> = rows.iter().filter(|x| x.verdict == "Missing").collect();
    if missing.is_empty() {
        out.push(format!(
            "CURRENT {}: every desired node has a daemon pod",
            c.current
        ));
    } else {
        let why = match failed_create {
            Some(m) => format!("creation fails: {m}"),
            None => "the controller has not created them yet".to_string(),
        };
        out.push(format!(
            "CURRENT {}: {} not created because {why} ({})",
            c.current,
            plural(missing.len(), "pod", "pods"),
            missing
                .iter()
                .map(|x| x.node.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let nr: Vec<&NodeRow> = rows.iter().filter(|x| x.verdict == "NotReady").collect();
    if nr.is_empty() {
        out.push(format!("READY {}: every daemon pod is Ready", c.ready));
    } else {
        out.push(format!(
            "READY {}: {} not Ready ({})",
            c.ready,
            plural(nr.len(), "pod", "pods"),
            nr.iter()
                .map(|x| format!("{}: {}", x.node, x.cause.clone().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let ms: Vec<String> = rows
        .iter()
        .filter(|x| x.verdict == "Misscheduled" || x.verdict == "Evicting")
        .map(|x| {
            format!(
                "{}: {}",
                x.node,
                x.blockers
                    .first()
                    .map(Blocker::describe)
                    .unwrap_or_else(|| "node gone".into())
            )
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
    if let Some(s) = &r.stuck {
        out.push(format!("UP-TO-DATE {s}"));
    } else if r.updated < r.desired {
        out.push(format!(
            "UP-TO-DATE {}/{}: rollout in progress ({} old)",
            r.updated,
            r.desired,
            r.old_nodes.len()
        ));
    }
    out
}
