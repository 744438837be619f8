//! [`analyze`]: the DaemonSet report from one snapshot. Pure.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;

use super::causes::{self, NotReady};
use super::eligibility::{self, Blocker};
use super::findings::{FixPart, Item, group};
use super::fix::{self, Scope};
use super::{
    Counts, DsReport, DsViewOptions, HASH, NodeRow, NodeState, PodView, Rollout, RolloutState,
    current_revision, owned_revisions, plural, pods_by_node, resolve, summary,
};
use crate::analysis::finding::{self, Finding, Severity};
use crate::analysis::health::{self, Health};
use crate::analysis::pod;
use crate::model::DsSnapshot;

const TPL_GEN: &str = "pod-template-generation";
const TPL_GEN_ANN: &str = "deprecated.daemonset.template.generation";

/// What the per-node pass needs to know about the DaemonSet.
struct Ctx<'a> {
    name: String,
    scope: Scope,
    template: &'a k8s_openapi::api::core::v1::PodTemplateSpec,
    /// The update revision's hash and number.
    update: Option<String>,
    update_rev: Option<i64>,
    tpl_gen: Option<String>,
    /// More than one revision: an older one to roll back to exists.
    multi_rev: bool,
    min_ready: i32,
    now: Timestamp,
}

impl Ctx<'_> {
    fn is_updated(&self, p: &Pod) -> bool {
        self.update
            .as_deref()
            .is_some_and(|h| pod::label(p, HASH) == Some(h))
            || self
                .tpl_gen
                .as_deref()
                .is_some_and(|g| pod::label(p, TPL_GEN) == Some(g))
    }

    fn undo(&self) -> String {
        self.scope
            .kubectl(&format!("rollout undo daemonset/{}", self.name))
    }

    fn pod_view(&self, p: &Pod) -> PodView {
        PodView {
            name: p.metadata.name.clone().unwrap_or_default(),
            status: pod::display_status(p),
            ready: pod::is_ready(p),
            available: pod::is_available(p, self.min_ready, self.now),
            revision: pod::label(p, HASH).map(str::to_string),
            // Unknown revisions (none listed yet) count as updated: no
            // rollout is claimed without a revision to compare with.
            updated: self.update.is_none() || self.is_updated(p),
            restarts: pod::restarts(p),
            age: pod::age(
                p.metadata.creation_timestamp.as_ref().map(|t| t.0),
                self.now,
            ),
        }
    }
}

/// The node's eligibility: from the node when it exists, "no longer
/// exists" when nodes were read and it is not among them, unknown when
/// nodes could not be read.
struct Place<'a> {
    node: Option<&'a Node>,
    exists: Option<bool>,
}

/// Analyzes a DaemonSet snapshot. The verdict is computed over every
/// finding; `--node` and `--only-problems` only filter what is shown.
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
    let revisions = owned_revisions(ds, &snap.revisions).len();
    let cur = current_revision(ds, &snap.revisions);
    let ctx = Ctx {
        name: name.clone(),
        scope: Scope {
            namespace: namespace.clone(),
            context: opts.context.clone(),
            kubeconfig: opts.kubeconfig.clone(),
        },
        template: &spec.template,
        update: cur.as_ref().map(|c| c.0.clone()),
        update_rev: cur.as_ref().map(|c| c.1),
        tpl_gen: ds
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(TPL_GEN_ANN))
            .cloned(),
        multi_rev: revisions >= 2,
        min_ready: spec.min_ready_seconds.unwrap_or(0),
        now,
    };
    let by_node = pods_by_node(ds, &snap.pods);

    let mut places: BTreeMap<String, Place> = BTreeMap::new();
    let mut notes = snap.notes.clone();
    match &snap.nodes {
        Some(nodes) => {
            for n in nodes {
                let place = Place {
                    node: Some(n),
                    exists: Some(true),
                };
                places.insert(n.metadata.name.clone().unwrap_or_default(), place);
            }
            for n in by_node.keys() {
                places.entry(n.clone()).or_insert(Place {
                    node: None,
                    exists: Some(false),
                });
            }
        }
        None => {
            notes.push("nodes could not be read: which nodes should run a daemon pod (taints, labels, readiness) was not checked; rows come from the pods only".to_string());
            for n in by_node.keys() {
                places.insert(
                    n.clone(),
                    Place {
                        node: None,
                        exists: None,
                    },
                );
            }
        }
    }

    let failed_create = causes::recent_failed_create(&snap.events, &name, now);
    let quota = failed_create
        .as_deref()
        .and_then(fix::parse_quota_rejection);
    let create_cause = failed_create.as_ref().map(|m| match &quota {
        Some(q) => format!("pod creation fails: {}", quota_text(q)),
        None => format!("pod creation fails (FailedCreate on the DaemonSet): {m}"),
    });

    let mut rows = Vec::new();
    let mut items = Vec::new();
    let mut missing = Vec::new();
    for (node, place) in &places {
        let pods = by_node.get(node).cloned().unwrap_or_default();
        let row = node_row(
            &ctx,
            node,
            place,
            &pods,
            &snap.events,
            create_cause.as_deref(),
            &mut items,
        );
        if row.verdict == NodeState::Missing && create_cause.is_some() {
            missing.push(node.clone());
        }
        rows.push(row);
    }
    if let (Some(cause), false) = (&create_cause, missing.is_empty()) {
        let fix = quota
            .as_ref()
            .and_then(|q| fix::quota_patch(&ctx.scope, q, missing.len()))
            .map_or(FixPart::None, FixPart::Same);
        items.push(Item::daemonset(
            "ds.pod.create_failed",
            Severity::Error,
            Health::Stalled,
            &name,
            format!(
                "{} no daemon pod ({}): {cause}",
                plural(missing.len(), "desired node has", "desired nodes have"),
                missing.join(", ")
            ),
            fix,
        ));
    }

    let rollout = rollout(&ctx, &spec, &counts, &rows, revisions, &mut items);
    let summary = summary::lines(
        &counts,
        &rows,
        snap.nodes.as_ref().map(Vec::len),
        create_cause.as_deref(),
        &rollout,
    );

    let all: Vec<&Item> = items.iter().collect();
    let mut every = group(&all, &ctx.scope);
    finding::sort(&mut every);
    let verdict = health::verdict(&every, counts.desired == 0);

    // filters: what is shown, never what is judged
    let mut shown: Vec<&Item> = items.iter().collect();
    if let Some(n) = &opts.node {
        rows.retain(|r| &r.node == n);
        shown.retain(|i| i.node.as_ref().is_none_or(|x| x == n));
    }
    let mut findings: Vec<Finding> = group(&shown, &ctx.scope);
    if opts.only_problems {
        rows.retain(|r| r.problem);
        findings.retain(|f| f.severity > Severity::Info);
    }
    finding::sort(&mut findings);
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
        verdict,
        findings,
        notes,
    }
}

/// `exceeded quota pod-cap (pods: requested 1, used 1, limited 1)`.
fn quota_text(q: &fix::QuotaRejection) -> String {
    let parts: Vec<String> = q
        .limited
        .iter()
        .map(|(k, l)| {
            format!(
                "{k}: requested {}, used {}, limited {l}",
                q.requested.get(k).map_or("?", String::as_str),
                q.used.get(k).map_or("?", String::as_str)
            )
        })
        .collect();
    format!("exceeded quota {} ({})", q.quota, parts.join("; "))
}

/// Why the node's pod should not be here, every blocker.
fn blockers_text(blockers: &[Blocker]) -> String {
    if blockers.is_empty() {
        return "the node no longer exists".to_string();
    }
    blockers
        .iter()
        .map(Blocker::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The blockers as a group key: `without disk=ssd and tainted k:NoSchedule`.
pub(super) fn signature(blockers: &[Blocker]) -> String {
    let mut g: Vec<String> = blockers.iter().map(Blocker::group).collect();
    g.dedup();
    g.join(" and ")
}

/// Says why an exclusion is meant to be (control plane, NotReady node).
fn intended(blockers: &[Blocker]) -> Option<&'static str> {
    let taint = |f: fn(&str) -> bool| {
        blockers
            .iter()
            .any(|b| matches!(b, Blocker::Taint { key, .. } if f(key)))
    };
    let only_readiness = blockers
        .iter()
        .all(|b| matches!(b, Blocker::Taint { key, .. } if fix::is_readiness_taint(key)));
    if only_readiness && !blockers.is_empty() {
        Some("the node is NotReady; it counts again once Ready")
    } else if taint(fix::is_readiness_taint) {
        Some("the node is NotReady")
    } else if taint(fix::is_intended_taint) {
        Some("intended: control-plane node")
    } else {
        None
    }
}

#[allow(clippy::too_many_arguments)]
fn node_row(
    ctx: &Ctx,
    node: &str,
    place: &Place,
    pods: &[&Pod],
    events: &[k8s_openapi::api::core::v1::Event],
    create_cause: Option<&str>,
    items: &mut Vec<Item>,
) -> NodeRow {
    let first = pods.first().copied();
    let el = place.node.map(|n| eligibility::should_run(n, ctx.template));
    let (should_run, cont, blockers) = match (&el, place.exists) {
        (Some(e), _) => (
            Some(e.should_run),
            Some(e.should_continue_running),
            e.blockers.clone(),
        ),
        (None, Some(false)) => (Some(false), Some(false), Vec::new()),
        (None, _) => (None, None, Vec::new()),
    };
    let pod_item = |p: &Pod,
                    id,
                    severity,
                    health,
                    message: String,
                    key: String,
                    group_message: String,
                    fix| Item {
        id,
        severity,
        health,
        node: Some(node.to_string()),
        object: format!("pod/{}", p.metadata.name.as_deref().unwrap_or_default()),
        on_node: Some(node.to_string()),
        pod: p.metadata.name.clone(),
        message,
        key: Some(key),
        group_message,
        fix,
    };
    let node_item =
        |id, severity, health, message: String, key: String, group_message: String, fix| Item {
            id,
            severity,
            health,
            node: Some(node.to_string()),
            object: format!("node/{node}"),
            on_node: None,
            pod: None,
            message,
            key: Some(key),
            group_message,
            fix,
        };
    let not_ready = |p: &Pod, items: &mut Vec<Item>| -> (String, String) {
        let NotReady {
            detail,
            group,
            broken,
            crashed,
        } = causes::not_ready(p);
        // an update whose pods crash: rolling back is the fix
        let stalled = broken && ctx.multi_rev && ctx.update.is_some() && ctx.is_updated(p);
        let see = crashed
            .map(|c| {
                let pn = p.metadata.name.as_deref().unwrap_or_default();
                format!(
                    "; see: {}",
                    ctx.scope.kubectl(&format!("logs {pn} -c {c} --previous"))
                )
            })
            .unwrap_or_default();
        items.push(pod_item(
            p,
            "ds.pod.not_ready",
            if broken {
                Severity::Error
            } else {
                Severity::Warning
            },
            if stalled {
                Health::Stalled
            } else {
                Health::Degraded
            },
            format!("not Ready on node {node}: {detail}{see}"),
            group.clone(),
            format!("not Ready: {group}{see}"),
            if stalled {
                FixPart::Same(ctx.undo())
            } else {
                FixPart::None
            },
        ));
        (detail, group)
    };
    let mut cause_group = None;
    let (verdict, cause, problem) = match (place.exists, should_run, first) {
        (Some(false), _, Some(p)) => {
            items.push(pod_item(
                p,
                "ds.pod.node_gone",
                Severity::Info,
                Health::Progressing,
                format!("bound to node {node}, which no longer exists: the pod garbage collector deletes it (about 40 s after the node went away); the DaemonSet controller does not count it (not in MISSCHEDULED)"),
                "gone".to_string(),
                "bound to nodes that no longer exist: the pod garbage collector deletes them (about 40 s after the node went away); the DaemonSet controller does not count them".to_string(),
                FixPart::None,
            ));
            (
                NodeState::NodeGone,
                Some("the node no longer exists: the pod garbage collector deletes the pod (about 40 s after the node went away); not counted by the DaemonSet controller".to_string()),
                false,
            )
        }
        (_, Some(true), None) => {
            let cause = match create_cause {
                Some(c) => c.to_string(),
                None => {
                    let (cause, group) = match causes::failed_daemon_pod(events, &ctx.name, node) {
                        Some(m) => (
                            format!(
                                "a Failed pod was deleted and its replacement waits on the back-off: {m}"
                            ),
                            "a Failed pod was deleted and its replacement waits on the back-off"
                                .to_string(),
                        ),
                        None => {
                            let c = "the controller has not created it yet (node just added, or earlier creations still pending)".to_string();
                            (c.clone(), c)
                        }
                    };
                    items.push(node_item(
                        "ds.pod.missing",
                        Severity::Warning,
                        Health::Degraded,
                        format!("no daemon pod: {cause}"),
                        group.clone(),
                        format!("no daemon pod: {group}"),
                        FixPart::None,
                    ));
                    cause
                }
            };
            (NodeState::Missing, Some(cause), true)
        }
        (_, Some(true), Some(p)) if !pod::is_ready(p) => {
            let (cause, group) = not_ready(p, items);
            cause_group = Some(group);
            (NodeState::NotReady, Some(cause), true)
        }
        (_, Some(true), Some(_)) => (NodeState::Running, None, false),
        (_, Some(false), None) => {
            if let Some(n) = place.node {
                items.push(excluded_item(ctx, n, node, &blockers));
            }
            (NodeState::Excluded, Some(blockers_text(&blockers)), false)
        }
        (_, Some(false), Some(p)) => {
            let why = blockers_text(&blockers);
            let sig = signature(&blockers);
            if cont == Some(true) {
                items.push(pod_item(
                    p,
                    "ds.pod.misscheduled",
                    Severity::Warning,
                    Health::Degraded,
                    format!("on node {node}, where it should no longer run ({why}): kept because no NoExecute taint evicts it, counted in MISSCHEDULED; once deleted it is not recreated there"),
                    sig.clone(),
                    format!("on nodes where they should no longer run ({sig}): kept because no NoExecute taint evicts them, counted in MISSCHEDULED; once deleted they are not recreated there"),
                    FixPart::DeletePods,
                ));
                (
                    NodeState::Misscheduled,
                    Some(format!(
                        "should no longer run here ({why}); kept because no NoExecute taint evicts it, counted in MISSCHEDULED"
                    )),
                    true,
                )
            } else {
                items.push(pod_item(
                    p,
                    "ds.pod.evicting",
                    Severity::Info,
                    Health::Progressing,
                    format!("on node {node}, where it may no longer run ({why}): the controller deletes it"),
                    sig.clone(),
                    format!("on nodes where they may no longer run ({sig}): the controller deletes them"),
                    FixPart::None,
                ));
                (
                    NodeState::Evicting,
                    Some(format!(
                        "should no longer run here ({why}); the controller deletes it"
                    )),
                    true,
                )
            }
        }
        (_, None, Some(p)) if !pod::is_ready(p) => {
            let (cause, group) = not_ready(p, items);
            cause_group = Some(group);
            (NodeState::NotReady, Some(cause), true)
        }
        (_, None, _) => (NodeState::Unknown, None, false),
    };
    NodeRow {
        node: node.to_string(),
        node_exists: place.exists,
        should_run,
        should_continue_running: cont,
        blockers,
        verdict,
        pod: first.map(|p| ctx.pod_view(p)),
        extra_pods: pods
            .iter()
            .skip(1)
            .filter_map(|p| p.metadata.name.clone())
            .collect(),
        cause,
        problem,
        cause_group,
    }
}

/// The finding for a node the DaemonSet does not run on, with a fix only
/// when a label change or toleration alone would admit it.
fn excluded_item(ctx: &Ctx, n: &Node, node: &str, blockers: &[Blocker]) -> Item {
    let sig = signature(blockers);
    let why = intended(blockers);
    let note = why.map(|w| format!(" ({w})")).unwrap_or_default();
    let (fix, fix_key) = if why.is_some() {
        (FixPart::None, String::new())
    } else if let Some(c) = fix::label_changes(n, ctx.template) {
        let args = fix::label_args(&c);
        (FixPart::LabelNodes(args.clone()), format!("label {args}"))
    } else if let Some(t) = fix::tolerations_to_add(n, ctx.template, blockers) {
        let patch = fix::toleration_patch(&ctx.scope, &ctx.name, ctx.template, &t);
        (FixPart::Same(patch.clone()), patch)
    } else {
        (FixPart::None, String::new())
    };
    Item {
        id: "ds.node.excluded",
        severity: Severity::Info,
        health: Health::Healthy,
        node: Some(node.to_string()),
        object: format!("node/{node}"),
        on_node: None,
        pod: None,
        message: format!("excluded: {}{note}", blockers_text(blockers)),
        key: Some(format!("{sig}|{fix_key}")),
        group_message: format!("excluded, {sig}{note}"),
        fix,
    }
}

/// Strategy, budgets, old nodes, and the rollout's own findings.
fn rollout(
    ctx: &Ctx,
    spec: &k8s_openapi::api::apps::v1::DaemonSetSpec,
    counts: &Counts,
    rows: &[NodeRow],
    revisions: usize,
    items: &mut Vec<Item>,
) -> Rollout {
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
    let unavailable: Vec<&NodeRow> = rows
        .iter()
        .filter(|r| r.should_run == Some(true))
        .filter(|r| r.pod.as_ref().is_none_or(|p| !p.available))
        .collect();
    let old: Vec<&NodeRow> = rows
        .iter()
        .filter(|r| r.verdict != NodeState::NodeGone)
        .filter(|r| r.pod.as_ref().is_some_and(|p| !p.updated))
        .collect();
    let old_nodes: Vec<String> = old.iter().map(|r| r.node.clone()).collect();
    let old_hashes: Vec<String> = old
        .iter()
        .filter_map(|r| r.pod.as_ref().and_then(|p| p.revision.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let updated = counts.up_to_date;
    let mut stuck = None;
    let mut state = RolloutState::Complete;
    let name = &ctx.name;
    if counts.observed_generation < counts.generation {
        state = RolloutState::NotObserved;
        items.push(Item::daemonset(
            "ds.spec.not_observed",
            Severity::Info,
            Health::Progressing,
            name,
            format!(
                "the controller has not acted on generation {} yet (observed {}): the counters describe the previous spec",
                counts.generation, counts.observed_generation
            ),
            FixPart::None,
        ));
    } else if ctx.update.is_some() && !old.is_empty() {
        if stype == "OnDelete" {
            state = RolloutState::WaitingForDeletes { waiting: old.len() };
            let pods: Vec<String> = old
                .iter()
                .filter_map(|r| r.pod.as_ref().map(|p| p.name.clone()))
                .collect();
            items.push(Item::daemonset(
                "ds.rollout.ondelete",
                Severity::Warning,
                Health::Stalled,
                name,
                format!(
                    "{updated}/{desired} updated: updateStrategy OnDelete, {} on an older revision wait to be deleted by hand ({})",
                    plural(pods.len(), "pod", "pods"),
                    pods.join(", ")
                ),
                FixPart::Same(ctx.scope.kubectl(&format!("delete pod {}", pods.join(" ")))),
            ));
        } else if ms == 0 && unavailable.len() as i32 >= mu {
            state = RolloutState::WaitingOnBudget { updated, desired };
            let un: Vec<String> = unavailable.iter().map(|r| r.node.clone()).collect();
            let waiting = old_nodes.iter().filter(|n| !un.contains(n)).count();
            let msg = format!(
                "{updated}/{desired} updated: {waiting} node(s) wait because {} unavailable pod(s) ({}) use the whole maxUnavailable={mu} budget",
                un.len(),
                un.join(", ")
            );
            // a crash, an image that cannot be pulled, a Failed pod: the
            // budget stays used until someone acts
            let broken = items.iter().any(|i| {
                i.id == "ds.pod.not_ready"
                    && i.severity == Severity::Error
                    && i.node.as_ref().is_some_and(|n| un.contains(n))
            });
            let not_ready = unavailable.iter().any(|r| r.verdict == NodeState::NotReady);
            let (id, sev, health, fix) = if broken {
                (
                    "ds.rollout.stuck",
                    Severity::Warning,
                    Health::Stalled,
                    FixPart::Same(ctx.undo()),
                )
            } else if not_ready {
                (
                    "ds.rollout.stuck",
                    Severity::Warning,
                    Health::Degraded,
                    FixPart::Same(ctx.undo()),
                )
            } else {
                (
                    "ds.rollout.in_progress",
                    Severity::Info,
                    Health::Progressing,
                    FixPart::None,
                )
            };
            items.push(Item::daemonset(id, sev, health, name, msg.clone(), fix));
            stuck = Some(msg);
        } else {
            state = RolloutState::InProgress { updated, desired };
            items.push(Item::daemonset(
                "ds.rollout.in_progress",
                Severity::Info,
                Health::Progressing,
                name,
                format!(
                    "rollout in progress: {updated}/{desired} updated, {} on an older revision ({})",
                    plural(old_nodes.len(), "node", "nodes"),
                    old_nodes.join(", ")
                ),
                FixPart::None,
            ));
        }
    }
    Rollout {
        strategy: stype,
        current_hash: ctx.update.clone(),
        current_revision: ctx.update_rev,
        update_hash: ctx.update.clone(),
        update_revision: ctx.update_rev,
        old_hashes,
        revisions,
        min_ready_seconds: ctx.min_ready,
        max_unavailable: mu,
        max_surge: ms,
        unavailable: unavailable.len() as i32,
        updated,
        desired,
        old_nodes,
        stuck,
        pods_by_revision: pods_by_revision(rows, ctx.update.as_deref()),
        state,
    }
}

/// Pods per revision hash, the update revision first, then by count.
fn pods_by_revision(rows: &[NodeRow], update: Option<&str>) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for p in rows.iter().filter_map(|r| r.pod.as_ref()) {
        *counts
            .entry(p.revision.clone().unwrap_or_else(|| "?".into()))
            .or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| {
        (Some(b.0.as_str()) == update)
            .cmp(&(Some(a.0.as_str()) == update))
            .then(b.1.cmp(&a.1))
            .then(a.0.cmp(&b.0))
    });
    v
}
