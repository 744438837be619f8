#![allow(clippy::unwrap_used, clippy::expect_used)]
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::fix::{self, Scope};
use super::{
    DsReport, DsViewOptions, NodeState, RolloutState, analyze, node_known, resolve, target_node,
};
use crate::analysis::finding::{Finding, Severity};
use crate::analysis::health::Health;
use crate::model::DsSnapshot;

const NOW: &str = "2026-01-01T12:00:00Z";
const UID: &str = "ds-uid";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn node(name: &str, labels: Value, taints: Value) -> Node {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}}),
    )
    .unwrap()
}

fn ds(spec_tpl: Value, status: Value, strategy: Value) -> k8s_openapi::api::apps::v1::DaemonSet {
    let mut tpl = spec_tpl;
    tpl["containers"] = json!([{"name": "main", "image": "img:2"}]);
    serde_json::from_value(json!({
        "metadata": {"name": "agent", "namespace": "prod", "uid": UID, "generation": 2},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "updateStrategy": strategy,
                 "template": {"metadata": {"labels": {"app": "agent"}}, "spec": tpl}},
        "status": status
    }))
    .unwrap()
}

fn status(desired: i32, current: i32, ready: i32, updated: i32) -> Value {
    json!({"desiredNumberScheduled": desired, "currentNumberScheduled": current,
           "numberReady": ready, "updatedNumberScheduled": updated, "numberAvailable": ready,
           "numberMisscheduled": 0, "observedGeneration": 2})
}

fn rev(hash: &str, n: i64) -> k8s_openapi::api::apps::v1::ControllerRevision {
    serde_json::from_value(json!({
        "metadata": {"name": format!("agent-{hash}"), "labels": {"controller-revision-hash": hash},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": UID, "controller": true}]},
        "revision": n
    }))
    .unwrap()
}

/// A daemon pod on `node` with revision `hash`; `state`: "ready",
/// "crash", "unready".
fn pod(name: &str, node: &str, hash: &str, state: &str) -> Pod {
    let (ready, cs) = match state {
        "ready" => (
            "True",
            json!([{"name": "main", "ready": true, "restartCount": 0, "image": "img", "imageID": "", "state": {"running": {}}}]),
        ),
        "crash" => (
            "False",
            json!([{"name": "main", "ready": false, "restartCount": 4, "image": "img", "imageID": "",
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off restarting failed container main in pod {name}")}}}]),
        ),
        _ => (
            "False",
            json!([{"name": "main", "ready": false, "restartCount": 0, "image": "img", "imageID": "", "state": {"running": {}}}]),
        ),
    };
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "prod", "labels": {"app": "agent", "controller-revision-hash": hash},
                     "creationTimestamp": "2026-01-01T11:00:00Z",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": UID, "controller": true}]},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "img:2"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready}], "containerStatuses": cs}
    }))
    .unwrap()
}

fn failed_create(msg: &str, at: &str) -> Event {
    serde_json::from_value(json!({
        "metadata": {"name": "agent.1", "namespace": "prod"},
        "involvedObject": {"kind": "DaemonSet", "name": "agent", "namespace": "prod"},
        "reason": "FailedCreate", "type": "Warning", "message": msg, "lastTimestamp": at
    }))
    .unwrap()
}

fn run(snap: &DsSnapshot, opts: &DsViewOptions) -> DsReport {
    analyze(snap, opts, now())
}

fn find<'a>(r: &'a DsReport, id: &str) -> Vec<&'a Finding> {
    r.findings.iter().filter(|f| f.id == id).collect()
}

fn line<'a>(r: &'a DsReport, prefix: &str) -> &'a str {
    r.summary
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} line in {:?}", r.summary))
}

fn cp() -> Node {
    node(
        "cp",
        json!({"node-role.kubernetes.io/control-plane": ""}),
        json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
    )
}

#[test]
fn budgets_round_percentages_of_desired_up() {
    assert_eq!(resolve(Some(&IntOrString::String("10%".into())), 7, 1), 1);
    assert_eq!(resolve(Some(&IntOrString::String("25%".into())), 10, 1), 3);
    assert_eq!(resolve(Some(&IntOrString::String("0%".into())), 10, 1), 0);
    assert_eq!(resolve(Some(&IntOrString::Int(2)), 10, 1), 2);
    assert_eq!(resolve(None, 10, 1), 1);
}

#[test]
fn pods_map_to_nodes_by_node_name_or_injected_match_fields() {
    let bound: Pod =
        serde_json::from_value(json!({"spec": {"nodeName": "a", "containers": []}})).unwrap();
    assert_eq!(target_node(&bound).as_deref(), Some("a"));
    let pending: Pod = serde_json::from_value(json!({"spec": {"containers": [], "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]}]}}}}})).unwrap();
    assert_eq!(target_node(&pending).as_deref(), Some("b"));
    let none: Pod = serde_json::from_value(json!({"spec": {"containers": []}})).unwrap();
    assert_eq!(target_node(&none), None);
}

/// The `nodeSelector disk=ssd` case: the tainted control-plane node lists
/// both blockers and is never the example of a label fix; the label fix
/// names exactly the nodes a label alone admits.
#[test]
fn every_blocker_listed_and_label_fix_only_where_a_label_alone_admits() {
    let snap = DsSnapshot {
        ds: ds(
            json!({"nodeSelector": {"disk": "ssd"}}),
            status(1, 1, 1, 1),
            json!({}),
        ),
        nodes: Some(vec![
            cp(),
            node("w1", json!({"disk": "ssd"}), json!([])),
            node("w2", json!({}), json!([])),
            node("w3", json!({"disk": "hdd"}), json!([])),
        ]),
        pods: vec![pod("agent-a", "w1", "h2", "ready")],
        revisions: vec![rev("h2", 1)],
        ..Default::default()
    };
    let r = run(&snap, &DsViewOptions::default());
    let cp_row = r.nodes.iter().find(|n| n.node == "cp").unwrap();
    assert_eq!(cp_row.blockers.len(), 2, "{:?}", cp_row.blockers);
    assert_eq!(
        cp_row.cause.as_deref(),
        Some(
            "nodeSelector disk=ssd: label missing; taint node-role.kubernetes.io/control-plane:NoSchedule not tolerated"
        )
    );
    let ex = find(&r, "ds.node.excluded");
    assert_eq!(ex.len(), 2, "{ex:?}");
    let cp_f = ex.iter().find(|f| f.object == "node/cp").unwrap();
    assert_eq!(cp_f.fix, None, "labelling cp would not admit it");
    assert!(cp_f.message.contains("(intended: "), "{}", cp_f.message);
    let group = ex.iter().find(|f| f.object == "node/w2").unwrap();
    assert_eq!(group.objects, vec!["node/w2", "node/w3"]);
    assert_eq!(group.message, "excluded, without disk=ssd");
    assert_eq!(
        group.fix.as_deref(),
        Some("kubectl label node w2 w3 disk=ssd --overwrite")
    );
    assert_eq!(
        line(&r, "DESIRED"),
        "DESIRED 1 = 4 nodes − 2 without disk=ssd − 1 without disk=ssd and tainted node-role.kubernetes.io/control-plane:NoSchedule"
    );
    assert_eq!(r.verdict.health, Health::Healthy);
    assert_eq!(r.verdict.worst, Some(Severity::Info));
}

/// A pod bound to a node that was deleted: not subtracted, not counted,
/// the pod garbage collector named.
#[test]
fn pod_on_a_deleted_node_is_left_to_the_pod_garbage_collector() {
    let snap = DsSnapshot {
        ds: ds(json!({}), status(1, 1, 1, 1), json!({})),
        nodes: Some(vec![node("n0", json!({}), json!([])), cp()]),
        pods: vec![
            pod("agent-a", "n0", "h2", "ready"),
            pod("agent-b", "gone", "h2", "ready"),
        ],
        revisions: vec![rev("h2", 1)],
        ..Default::default()
    };
    let r = run(&snap, &DsViewOptions::default());
    assert_eq!(
        line(&r, "DESIRED"),
        "DESIRED 1 = 2 nodes − 1 tainted node-role.kubernetes.io/control-plane:NoSchedule"
    );
    let gone = r.nodes.iter().find(|n| n.node == "gone").unwrap();
    assert_eq!(gone.verdict, NodeState::NodeGone);
    assert_eq!(gone.node_exists, Some(false));
    assert!(line(&r, "NOT COUNTED").contains("agent-b on gone"));
    assert!(!r.summary.iter().any(|l| l.starts_with("MISSCHEDULED")));
    let f = find(&r, "ds.pod.node_gone");
    assert_eq!(f.len(), 1);
    assert!(f[0].message.contains("pod garbage collector"));
    assert_eq!(f[0].object, "pod/agent-b");
    assert_eq!(r.verdict.health, Health::Progressing);
    assert_eq!(node_known(&snap, "gone"), Some(true));
    assert_eq!(node_known(&snap, "n0"), Some(true));
    assert_eq!(node_known(&snap, "nope"), Some(false));
    let blind = DsSnapshot {
        nodes: None,
        ..snap.clone()
    };
    assert_eq!(node_known(&blind, "nope"), None);
}

/// ds-quota: missing pods because creation fails are not a rollout; one
/// error finding names the quota, Stalled, with the quota patch as fix.
#[test]
fn quota_blocked_creation_is_stalled_and_not_a_rollout() {
    let msg = "Error creating: pods \"agent-x\" is forbidden: exceeded quota: pod-cap, requested: pods=1, used: pods=1, limited: pods=1";
    let snap = DsSnapshot {
        ds: ds(json!({}), status(3, 1, 1, 1), json!({})),
        nodes: Some(vec![
            node("n1", json!({}), json!([])),
            node("n2", json!({}), json!([])),
            node("n3", json!({}), json!([])),
        ]),
        pods: vec![pod("agent-a", "n1", "h1", "ready")],
        revisions: vec![rev("h1", 1)],
        events: vec![failed_create(msg, "2026-01-01T11:59:00Z")],
        ..Default::default()
    };
    let opts = DsViewOptions {
        context: Some("dev".into()),
        ..Default::default()
    };
    let r = run(&snap, &opts);
    for n in ["n2", "n3"] {
        let row = r.nodes.iter().find(|x| x.node == n).unwrap();
        assert_eq!(row.verdict, NodeState::Missing);
        assert_eq!(
            row.cause.as_deref(),
            Some(
                "pod creation fails: exceeded quota pod-cap (pods: requested 1, used 1, limited 1)"
            )
        );
    }
    assert!(!r.nodes.iter().any(|x| x.verdict == NodeState::Excluded));
    let f = find(&r, "ds.pod.create_failed");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].health, Health::Stalled);
    assert_eq!(f[0].object, "daemonset/agent");
    assert!(
        f[0].message.contains("exceeded quota pod-cap"),
        "{}",
        f[0].message
    );
    assert_eq!(
        f[0].fix.as_deref(),
        Some(
            "kubectl patch resourcequota pod-cap --type=merge -p '{\"spec\":{\"hard\":{\"pods\":\"3\"}}}' -n prod --context dev"
        )
    );
    assert!(
        find(&r, "ds.pod.missing").is_empty(),
        "one finding, not one per node"
    );
    assert_eq!(r.rollout.state, RolloutState::Complete);
    let text = crate::render::daemonset::ds_table(&r, false, &crate::render::Style::default());
    let head: Vec<&str> = text.lines().take(6).collect();
    assert_eq!(
        head,
        vec![
            "DaemonSet prod/agent",
            "Health:     Stalled: daemonset/agent: 2 desired nodes have no daemon pod (n2, n3): pod creation fails: exceeded quota pod-cap (pods: requested 1, used 1, limited 1)",
            "Pods:       3 desired | 1 current | 1 ready | 1 updated | 1 available | 0 misscheduled",
            "Revisions:  h1 (update, revision 1): 1 pod(s)",
            "Rollout:    complete: every daemon pod runs the update revision",
            "Strategy:   RollingUpdate (maxUnavailable 1, maxSurge 0) | minReadySeconds 0",
        ]
    );
    assert!(!text.contains("No problems"), "{text}");
    assert_eq!(r.verdict.health, Health::Stalled);
    assert!(
        !r.summary.iter().any(|l| l.contains("rollout")),
        "{:?}",
        r.summary
    );
    assert_eq!(
        line(&r, "UP-TO-DATE"),
        "UP-TO-DATE 1/3: every daemon pod runs the update revision; 2 desired nodes have no daemon pod (see CURRENT)"
    );
    assert!(line(&r, "CURRENT 1: 2 of 3 desired nodes have no daemon pod").contains("n2, n3"));
    // --node keeps the DaemonSet's own finding; the verdict never changes
    let r2 = run(
        &snap,
        &DsViewOptions {
            node: Some("n1".into()),
            ..opts.clone()
        },
    );
    assert_eq!(r2.nodes.len(), 1);
    assert_eq!(find(&r2, "ds.pod.create_failed").len(), 1);
    assert_eq!(r2.verdict, r.verdict);
    // a FailedCreate from long ago explains nothing
    let old = DsSnapshot {
        events: vec![failed_create(msg, "2026-01-01T10:00:00Z")],
        ..snap.clone()
    };
    let r3 = run(&old, &DsViewOptions::default());
    assert!(find(&r3, "ds.pod.create_failed").is_empty());
    let m = find(&r3, "ds.pod.missing");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].objects, vec!["node/n2", "node/n3"]);
    assert_eq!(r3.verdict.health, Health::Degraded);
}

/// Identical findings are one line naming every pod; the crash of an
/// update is Stalled, its fix the rollback, and the rollout waits.
#[test]
fn crashing_update_groups_pods_and_is_stalled_with_a_rollback() {
    let snap = DsSnapshot {
        ds: ds(
            json!({}),
            status(4, 4, 1, 3),
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 3}}),
        ),
        nodes: Some(
            (0..4)
                .map(|i| node(&format!("n{i}"), json!({}), json!([])))
                .collect(),
        ),
        pods: vec![
            pod("agent-a", "n0", "h2", "crash"),
            pod("agent-b", "n1", "h2", "crash"),
            pod("agent-c", "n2", "h2", "crash"),
            pod("agent-d", "n3", "h1", "ready"),
        ],
        revisions: vec![rev("h1", 1), rev("h2", 2)],
        ..Default::default()
    };
    let r = run(&snap, &DsViewOptions::default());
    let nr = find(&r, "ds.pod.not_ready");
    assert_eq!(nr.len(), 1, "{nr:?}");
    assert_eq!(nr[0].object, "pod/agent-a");
    assert_eq!(
        nr[0].objects,
        vec!["pod/agent-a", "pod/agent-b", "pod/agent-c"]
    );
    assert_eq!(
        nr[0].message,
        "not Ready: container main CrashLoopBackOff; see: kubectl logs agent-a -c main --previous -n prod (on n0, n1, n2)"
    );
    assert_eq!(nr[0].health, Health::Stalled);
    assert_eq!(
        nr[0].fix.as_deref(),
        Some("kubectl rollout undo daemonset/agent -n prod")
    );
    let stuck = find(&r, "ds.rollout.stuck");
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0].health, Health::Stalled);
    assert_eq!(r.verdict.health, Health::Stalled);
    assert_eq!(r.rollout.old_hashes, vec!["h1".to_string()]);
    assert_eq!(
        r.rollout.state,
        RolloutState::WaitingOnBudget {
            updated: 3,
            desired: 4
        }
    );
    assert_eq!(
        r.rollout.pods_by_revision,
        vec![("h2".to_string(), 3), ("h1".to_string(), 1)]
    );
    assert_eq!(
        line(&r, "READY"),
        "READY 1: 3 pods not Ready: container main CrashLoopBackOff (n0, n1, n2)"
    );
    // --node n3: the crash is elsewhere, but the DaemonSet-level finding stays
    let r2 = run(
        &snap,
        &DsViewOptions {
            node: Some("n3".into()),
            ..Default::default()
        },
    );
    assert!(find(&r2, "ds.pod.not_ready").is_empty());
    assert_eq!(find(&r2, "ds.rollout.stuck").len(), 1);
    assert_eq!(r2.verdict, r.verdict);
    // the first revision crashing is Degraded, no rollback offered
    let first = DsSnapshot {
        revisions: vec![rev("h2", 1)],
        pods: snap.pods[..3].to_vec(),
        ..snap.clone()
    };
    let r3 = run(&first, &DsViewOptions::default());
    let nr = find(&r3, "ds.pod.not_ready");
    assert_eq!((nr[0].health, nr[0].fix.clone()), (Health::Degraded, None));
    assert_eq!(r3.verdict.health, Health::Degraded);
    assert!(!r3.summary.iter().any(|l| l.contains("rollout in progress")));
}

#[test]
fn ondelete_old_pods_are_stalled_with_the_delete_command() {
    let snap = DsSnapshot {
        ds: ds(json!({}), status(2, 2, 2, 1), json!({"type": "OnDelete"})),
        nodes: Some(vec![
            node("n0", json!({}), json!([])),
            node("n1", json!({}), json!([])),
        ]),
        pods: vec![
            pod("agent-a", "n0", "h1", "ready"),
            pod("agent-b", "n1", "h2", "ready"),
        ],
        revisions: vec![rev("h1", 1), rev("h2", 2)],
        ..Default::default()
    };
    let r = run(&snap, &DsViewOptions::default());
    let f = find(&r, "ds.rollout.ondelete");
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].severity, f[0].health),
        (Severity::Warning, Health::Stalled)
    );
    assert_eq!(
        f[0].fix.as_deref(),
        Some("kubectl delete pod agent-a -n prod")
    );
    assert_eq!(
        r.rollout.state,
        RolloutState::WaitingForDeletes { waiting: 1 }
    );
    assert_eq!(r.verdict.health, Health::Stalled);
}

#[test]
fn a_rollout_within_its_budget_is_progressing() {
    let snap = DsSnapshot {
        ds: ds(
            json!({}),
            status(3, 3, 3, 1),
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}),
        ),
        nodes: Some(
            (0..3)
                .map(|i| node(&format!("n{i}"), json!({}), json!([])))
                .collect(),
        ),
        pods: vec![
            pod("agent-a", "n0", "h2", "ready"),
            pod("agent-b", "n1", "h1", "ready"),
            pod("agent-c", "n2", "h1", "ready"),
        ],
        revisions: vec![rev("h1", 1), rev("h2", 2)],
        ..Default::default()
    };
    let r = run(&snap, &DsViewOptions::default());
    assert_eq!(r.verdict.health, Health::Progressing);
    assert_eq!(find(&r, "ds.rollout.in_progress").len(), 1);
    assert_eq!(
        r.rollout.state,
        RolloutState::InProgress {
            updated: 1,
            desired: 3
        }
    );
    assert!(
        line(
            &r,
            "UP-TO-DATE 1/3: rollout in progress, 2 nodes on an older revision"
        )
        .contains("n1, n2")
    );
}

#[test]
fn misscheduled_pods_are_grouped_with_one_delete_command() {
    let taint = json!([{"key": "drain", "value": "now", "effect": "NoSchedule"}]);
    let snap = DsSnapshot {
        ds: ds(json!({}), status(0, 0, 0, 0), json!({})),
        nodes: Some(vec![
            node("n0", json!({}), taint.clone()),
            node("n1", json!({}), taint),
        ]),
        pods: vec![
            pod("agent-a", "n0", "h1", "ready"),
            pod("agent-b", "n1", "h1", "ready"),
        ],
        revisions: vec![rev("h1", 1)],
        ..Default::default()
    };
    let r = run(
        &snap,
        &DsViewOptions {
            context: Some("my ctx".into()),
            ..Default::default()
        },
    );
    let f = find(&r, "ds.pod.misscheduled");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].objects, vec!["pod/agent-a", "pod/agent-b"]);
    assert_eq!(
        f[0].fix.as_deref(),
        Some("kubectl delete pod agent-a agent-b -n prod --context 'my ctx'")
    );
    assert_eq!(r.verdict.health, Health::Degraded);
}

fn tpl(spec: Value) -> k8s_openapi::api::core::v1::PodTemplateSpec {
    let mut spec = spec;
    spec["containers"] = json!([{"name": "c", "image": "i"}]);
    serde_json::from_value(json!({"spec": spec})).unwrap()
}

fn aff(terms: Value) -> Value {
    json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}})
}

#[test]
fn label_changes_only_when_labels_alone_admit_the_node() {
    let plain = node("n", json!({"zone": "b"}), json!([]));
    let t = tpl(aff(json!([{"matchExpressions": [
        {"key": "zone", "operator": "In", "values": ["a"]},
        {"key": "tier", "operator": "Gt", "values": ["3"]},
        {"key": "old", "operator": "DoesNotExist"}
    ]}])));
    let c = fix::label_changes(&plain, &t).unwrap();
    assert_eq!(fix::label_args(&c), "tier=4 zone=a");
    // a matchFields term is not fixed by a label; the next term is used
    let t = tpl(aff(json!([
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["other"]}]},
        {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}
    ])));
    assert_eq!(
        fix::label_args(&fix::label_changes(&plain, &t).unwrap()),
        "gpu="
    );
    let t = tpl(aff(
        json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["other"]}]}]),
    ));
    assert_eq!(fix::label_changes(&plain, &t), None);
    // a taint still excludes the node: no label fix
    let tainted = node(
        "n",
        json!({}),
        json!([{"key": "k", "effect": "NoSchedule"}]),
    );
    assert_eq!(
        fix::label_changes(&tainted, &tpl(json!({"nodeSelector": {"disk": "ssd"}}))),
        None
    );
    // identity labels are never rewritten
    let t = tpl(json!({"nodeSelector": {"kubernetes.io/hostname": "other"}}));
    assert_eq!(fix::label_changes(&plain, &t), None);
    // NotIn: the label is removed
    let t = tpl(aff(
        json!([{"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["b"]}]}]),
    ));
    assert_eq!(
        fix::label_args(&fix::label_changes(&plain, &t).unwrap()),
        "zone-"
    );
}

#[test]
fn toleration_patches_append_or_create_the_list() {
    let n = node(
        "n",
        json!({}),
        json!([{"key": "k", "value": "v", "effect": "NoSchedule"}, {"key": "e", "effect": "NoExecute"}]),
    );
    let scope = Scope {
        namespace: "prod".into(),
        context: None,
        kubeconfig: None,
    };
    let bare = tpl(json!({}));
    let e = super::eligibility::should_run(&n, &bare);
    let add = fix::tolerations_to_add(&n, &bare, &e.blockers).unwrap();
    assert_eq!(
        fix::toleration_patch(&scope, "agent", &bare, &add),
        "kubectl patch daemonset agent --type=json -p '[{\"op\":\"test\",\"path\":\"/spec/template/spec/tolerations\",\"value\":null},{\"op\":\"add\",\"path\":\"/spec/template/spec/tolerations\",\"value\":[{\"effect\":\"NoSchedule\",\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\"},{\"effect\":\"NoExecute\",\"key\":\"e\",\"operator\":\"Exists\"}]}]' -n prod"
    );
    let with = tpl(json!({"tolerations": [{"key": "x", "operator": "Exists"}]}));
    let p = fix::toleration_patch(&scope, "agent", &with, &add[..1]);
    assert!(
        p.contains("\"path\":\"/spec/template/spec/tolerations/-\""),
        "{p}"
    );
    // a selector failure too: no toleration fix
    let sel = tpl(json!({"nodeSelector": {"a": "b"}}));
    let e = super::eligibility::should_run(&n, &sel);
    assert_eq!(fix::tolerations_to_add(&n, &sel, &e.blockers), None);
    // NotReady nodes: no toleration fix
    let nr = node(
        "n",
        json!({}),
        json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]),
    );
    let e = super::eligibility::should_run(&nr, &bare);
    assert_eq!(fix::tolerations_to_add(&nr, &bare, &e.blockers), None);
}

#[test]
fn quota_rejections_parse_and_patch_only_whole_numbers() {
    let q = fix::parse_quota_rejection("pods \"a\" is forbidden: exceeded quota: q1, requested: count/pods=1,pods=1, used: count/pods=2,pods=2, limited: count/pods=2,pods=2").unwrap();
    assert_eq!(q.quota, "q1");
    let scope = Scope {
        namespace: "ns".into(),
        context: None,
        kubeconfig: None,
    };
    assert_eq!(
        fix::quota_patch(&scope, &q, 2).unwrap(),
        "kubectl patch resourcequota q1 --type=merge -p '{\"spec\":{\"hard\":{\"count/pods\":\"4\",\"pods\":\"4\"}}}' -n ns"
    );
    let cpu = fix::parse_quota_rejection("exceeded quota: q2, requested: requests.cpu=500m, used: requests.cpu=1, limited: requests.cpu=1").unwrap();
    assert_eq!(fix::quota_patch(&scope, &cpu, 1), None);
    assert_eq!(fix::parse_quota_rejection("admission webhook denied"), None);
}

#[test]
fn scope_quotes_what_a_shell_would_split() {
    let s = Scope {
        namespace: "prod".into(),
        context: Some("kind-a b".into()),
        kubeconfig: None,
    };
    assert_eq!(
        s.kubectl("get pods"),
        "kubectl get pods -n prod --context 'kind-a b'"
    );
    assert_eq!(
        s.kubectl_cluster("get nodes"),
        "kubectl get nodes --context 'kind-a b'"
    );
    assert_eq!(fix::quote("it's"), "'it'\\''s'");
    assert_eq!(
        fix::quote("arn:aws:eks:eu-west-1:1:cluster/x"),
        "arn:aws:eks:eu-west-1:1:cluster/x"
    );
}

#[test]
fn verdict_is_computed_before_filters() {
    let snap = DsSnapshot {
        ds: ds(json!({}), status(2, 2, 1, 2), json!({})),
        nodes: Some(vec![
            node("n0", json!({}), json!([])),
            node("n1", json!({}), json!([])),
        ]),
        pods: vec![
            pod("agent-a", "n0", "h1", "ready"),
            pod("agent-b", "n1", "h1", "unready"),
        ],
        revisions: vec![rev("h1", 1)],
        ..Default::default()
    };
    let all = run(&snap, &DsViewOptions::default());
    let only = run(
        &snap,
        &DsViewOptions {
            node: Some("n0".into()),
            only_problems: true,
            ..Default::default()
        },
    );
    assert_eq!(all.verdict, only.verdict);
    assert_eq!(only.verdict.worst, Some(Severity::Warning));
    assert!(only.findings.is_empty() && only.nodes.is_empty());
    assert_eq!(all.verdict.health, Health::Degraded);
}

#[test]
fn a_notready_node_is_an_intended_exclusion_without_a_fix() {
    let nr = json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]);
    let snap = DsSnapshot {
        ds: ds(
            json!({"nodeSelector": {"disk": "ssd"}}),
            status(0, 0, 0, 0),
            json!({}),
        ),
        nodes: Some(vec![
            node("a", json!({"disk": "ssd"}), nr.clone()),
            node("b", json!({}), nr),
        ]),
        revisions: vec![rev("h1", 1)],
        ..Default::default()
    };
    let r = run(&snap, &DsViewOptions::default());
    let ex = find(&r, "ds.node.excluded");
    let a = ex.iter().find(|f| f.object == "node/a").unwrap();
    assert_eq!(
        a.message,
        "excluded: taint node.kubernetes.io/not-ready:NoSchedule not tolerated (the node is NotReady; it counts again once Ready)"
    );
    assert_eq!(a.fix, None);
    let b = ex.iter().find(|f| f.object == "node/b").unwrap();
    assert!(
        b.message.ends_with("(the node is NotReady)"),
        "{}",
        b.message
    );
    assert_eq!(b.fix, None, "a label alone would not admit b");
    assert_eq!(r.verdict.health, Health::ScaledToZero);
}
