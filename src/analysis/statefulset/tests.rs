//! Unit tests for the StatefulSet view, one or more per rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::analysis::finding::Severity;
use crate::model::StsSnapshot;

const NOW: i64 = 1_800_000_000;

fn now() -> Timestamp {
    Timestamp::from_second(NOW).unwrap()
}

fn ts(ago: i64) -> String {
    Timestamp::from_second(NOW - ago).unwrap().to_string()
}

fn sts(extra: Value) -> StatefulSet {
    let mut base = json!({
        "metadata": {"name": "web", "namespace": "ns", "generation": 1},
        "spec": {
            "replicas": 3,
            "serviceName": "svc",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}]
        },
        "status": {"replicas": 3, "observedGeneration": 1, "currentRevision": "web-new", "updateRevision": "web-new"}
    });
    merge(&mut base, extra);
    serde_json::from_value(base).unwrap()
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

fn pod_json(name: &str, rev: &str, ready: bool) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "ns", "labels": {"app": "web", "controller-revision-hash": rev}, "creationTimestamp": ts(600)},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.1",
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}, "lastTransitionTime": ts(500)}],
            "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": ready, "restartCount": 0, "state": {"running": {}}}]
        }
    })
}

fn pod(name: &str, rev: &str, ready: bool) -> Pod {
    serde_json::from_value(pod_json(name, rev, ready)).unwrap()
}

fn pod_with(name: &str, rev: &str, extra: Value) -> Pod {
    let mut p = pod_json(name, rev, false);
    merge(&mut p, extra);
    serde_json::from_value(p).unwrap()
}

fn pvc(name: &str, phase: &str, extra: Value) -> PersistentVolumeClaim {
    let mut p = json!({
        "metadata": {"name": name, "namespace": "ns", "labels": {"app": "web"}},
        "spec": {"resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "standard", "volumeName": format!("pv-{name}")},
        "status": {"phase": phase, "capacity": {"storage": "1Gi"}}
    });
    merge(&mut p, extra);
    serde_json::from_value(p).unwrap()
}

fn service(extra: Value) -> k8s_openapi::api::core::v1::Service {
    let mut s = json!({"metadata": {"name": "svc", "namespace": "ns"}, "spec": {"clusterIP": "None", "selector": {"app": "web"}}});
    merge(&mut s, extra);
    serde_json::from_value(s).unwrap()
}

fn event(kind: &str, name: &str, reason: &str, message: &str) -> k8s_openapi::api::core::v1::Event {
    serde_json::from_value(json!({
        "metadata": {"name": format!("{name}.1"), "namespace": "ns"},
        "involvedObject": {"kind": kind, "name": name, "namespace": "ns"},
        "reason": reason, "message": message, "lastTimestamp": ts(10)
    }))
    .unwrap()
}

/// A healthy 3-replica set with bound claims.
fn healthy() -> StsSnapshot {
    let s = sts(json!({}));
    StsSnapshot {
        all_sets: vec![s.clone()],
        sts: s,
        pods: (0..3)
            .map(|i| pod(&format!("web-{i}"), "web-new", true))
            .collect(),
        claims: (0..3)
            .map(|i| pvc(&format!("data-web-{i}"), "Bound", json!({})))
            .collect(),
        service: Some(service(json!({}))),
        ..Default::default()
    }
}

fn run(s: &StsSnapshot) -> StsReport {
    analyze(s, &ViewOptions::default(), now())
}

fn ids(r: &StsReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

fn finding<'a>(r: &'a StsReport, id: &str) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no {id} in {:#?}", r.findings))
}

#[test]
fn healthy_set_has_rows_in_order_and_no_findings() {
    let r = run(&healthy());
    assert_eq!(
        r.ordinals.iter().map(|o| o.ordinal).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(
        r.ordinals[1].dns.as_deref(),
        Some("web-1.svc.ns.svc.cluster.local")
    );
    assert_eq!(r.ordinals[1].claims[0].phase, "Bound");
    assert_eq!(r.header.service_verdict, ServiceVerdict::Ok);
    assert!(r.out_of_range.is_empty());
}

#[test]
fn cluster_domain_option_changes_dns() {
    let r = analyze(
        &healthy(),
        &ViewOptions {
            context: None,
            kubeconfig: None,
            cluster_domain: "corp.example".into(),
        },
        now(),
    );
    assert_eq!(
        r.ordinals[0].dns.as_deref(),
        Some("web-0.svc.ns.svc.corp.example")
    );
}

#[test]
fn ordinals_start_5_range_and_out_of_range_claims() {
    let mut s = healthy();
    s.sts =
        sts(json!({"spec": {"replicas": 2, "ordinals": {"start": 5}}, "status": {"replicas": 2}}));
    s.all_sets = vec![s.sts.clone()];
    s.pods = vec![pod("web-5", "web-new", true), pod("web-6", "web-new", true)];
    s.claims = ["data-web-5", "data-web-6", "data-web-7", "data-web-0"]
        .iter()
        .map(|n| pvc(n, "Bound", json!({})))
        .collect();
    let r = run(&s);
    assert_eq!(
        r.ordinals.iter().map(|o| o.ordinal).collect::<Vec<_>>(),
        vec![5, 6]
    );
    assert_eq!(
        r.out_of_range.iter().map(|o| o.ordinal).collect::<Vec<_>>(),
        vec![0, 7]
    );
    let oor: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.id == "pvc.out_of_range")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        oor,
        vec![
            "2 claims left behind by a scale-down (ordinals outside the live range 5..6): data-web-0, data-web-7"
        ]
    );
    assert!(
        finding(&r, "pvc.out_of_range")
            .fix
            .as_deref()
            .unwrap()
            .contains("kubectl sts prune-pvcs web -n ns")
    );
    assert!(finding(&r, "pvc.out_of_range").message.contains("5..6"));
}

#[test]
fn replicas_zero_has_no_rows_and_every_claim_out_of_range() {
    let mut s = healthy();
    s.sts = sts(json!({"spec": {"replicas": 0}, "status": {"replicas": 0}}));
    s.all_sets = vec![s.sts.clone()];
    s.pods.clear();
    let r = run(&s);
    assert!(r.ordinals.is_empty());
    assert_eq!(r.out_of_range.len(), 3);
    // Scaled to 0 is often a pause: the claims are kept, not prune candidates.
    assert!(!ids(&r).contains(&"pvc.out_of_range"));
    assert!(
        finding(&r, "pvc.kept")
            .message
            .starts_with("kept: web is scaled to 0")
    );
    assert!(!ids(&r).contains(&"pod.missing"));
}

#[test]
fn two_claim_templates_give_two_claim_columns() {
    let mut s = healthy();
    s.sts = sts(json!({"spec": {"volumeClaimTemplates": [
        {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}},
        {"metadata": {"name": "logs"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}
    ]}}));
    s.all_sets = vec![s.sts.clone()];
    s.claims.push(pvc("logs-web-0", "Bound", json!({})));
    let r = run(&s);
    assert_eq!(r.header.volume_claim_templates, vec!["data", "logs"]);
    assert_eq!(
        r.ordinals[0]
            .claims
            .iter()
            .map(|c| c.phase.as_str())
            .collect::<Vec<_>>(),
        vec!["Bound", "Bound"]
    );
    assert_eq!(r.ordinals[1].claims[1].phase, "Missing");
    assert_eq!(r.ordinals[1].claims[1].name, "logs-web-1");
}

#[test]
fn ambiguous_claim_is_out_of_range_only_if_out_of_range_for_both_sets() {
    // `a` (template b-c, 1 replica) and `c-a` (template b, 3 replicas) both fit b-c-a-2.
    let a = sts(
        json!({"metadata": {"name": "a"}, "spec": {"replicas": 1, "volumeClaimTemplates": [{"metadata": {"name": "b-c"}}]}, "status": {"replicas": 1}}),
    );
    let ca = sts(
        json!({"metadata": {"name": "c-a"}, "spec": {"replicas": 3, "volumeClaimTemplates": [{"metadata": {"name": "b"}}]}}),
    );
    let mut s = StsSnapshot {
        sts: a.clone(),
        all_sets: vec![a.clone(), ca.clone()],
        service: Some(service(json!({}))),
        ..Default::default()
    };
    s.pods = vec![pod("a-0", "web-new", true)];
    s.claims = vec![
        pvc("b-c-a-0", "Bound", json!({})),
        pvc("b-c-a-2", "Bound", json!({})),
        pvc("b-c-a-5", "Bound", json!({})),
    ];
    let r = run(&s);
    let amb = finding(&r, "pvc.kept");
    assert_eq!(
        amb.message,
        "kept: the name also fits statefulset c-a, where ordinal 2 is live: b-c-a-2"
    );
    assert_eq!(amb.severity, Severity::Info);
    let oor: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.id == "pvc.out_of_range")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        oor,
        vec!["1 claim left behind by a scale-down (ordinal outside the live range 0..0): b-c-a-5"]
    );
}

#[test]
fn stray_claim_of_removed_template_is_flagged() {
    let mut s = healthy();
    s.claims.push(pvc("olddata-web-0", "Bound", json!({})));
    s.claims.push(pvc("olddata-web-4", "Bound", json!({})));
    let r = run(&s);
    assert_eq!(r.stray_claims.len(), 2);
    assert_eq!(r.stray_claims[0].template, "olddata");
    let f = finding(&r, "pvc.template_removed");
    assert_eq!(f.object, "statefulset/web");
    assert!(f.message.ends_with(": olddata-web-4"), "{}", f.message);
    assert_eq!(
        f.fix.as_deref(),
        Some(
            "if their data is no longer needed: kubectl sts prune-pvcs web -n ns --include-deleted"
        )
    );
    // Ordinal 0 is live: a rollback to the old template would use it.
    assert!(finding(&r, "pvc.kept").message.ends_with(": olddata-web-0"));
}

#[test]
fn service_missing_not_headless_and_wrong_selector() {
    let mut s = healthy();
    s.service = None;
    assert_eq!(
        finding(&run(&s), "service.missing").severity,
        Severity::Error
    );
    s.service = Some(service(json!({"spec": {"clusterIP": "10.0.0.5"}})));
    assert!(ids(&run(&s)).contains(&"service.not_headless"));
    s.service = Some(service(json!({"spec": {"selector": {"app": "other"}}})));
    let r = run(&s);
    assert_eq!(r.header.service_verdict, ServiceVerdict::SelectorMismatch);
    assert!(ids(&r).contains(&"service.selector_mismatch"));
}

#[test]
fn parallel_without_publish_not_ready_is_info_and_ordered_ready_is_silent() {
    let mut s = healthy();
    assert!(!ids(&run(&s)).contains(&"service.not_ready_unpublished"));
    s.sts = sts(json!({"spec": {"podManagementPolicy": "Parallel"}}));
    let f = finding(&run(&s), "service.not_ready_unpublished").clone();
    assert_eq!(f.severity, Severity::Info);
    assert!(f.fix.unwrap().contains("publishNotReadyAddresses"));
    s.service = Some(service(json!({"spec": {"publishNotReadyAddresses": true}})));
    assert!(!ids(&run(&s)).contains(&"service.not_ready_unpublished"));
}

#[test]
fn missing_pod_names_the_ordered_ready_blocker() {
    let mut s = healthy();
    s.pods = vec![
        pod("web-0", "web-new", true),
        pod("web-1", "web-new", false),
    ];
    let r = run(&s);
    let f = finding(&r, "pod.missing");
    assert_eq!(f.object, "pod/web-2");
    assert!(f.message.contains("waits for web-1"), "{}", f.message);
}

#[test]
fn pending_claim_with_missing_storage_class_from_events_and_classes() {
    let mut s = healthy();
    s.claims[2] = pvc(
        "data-web-2",
        "Pending",
        json!({"spec": {"storageClassName": "nope", "volumeName": null}, "status": {"capacity": null}}),
    );
    s.events = vec![event(
        "PersistentVolumeClaim",
        "data-web-2",
        "ProvisioningFailed",
        "storageclass.storage.k8s.io \"nope\" not found",
    )];
    let r = run(&s);
    let f = finding(&r, "pvc.pending");
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.message.contains("ProvisioningFailed") && f.message.contains("\"nope\" not found"),
        "{}",
        f.message
    );
    // With the StorageClasses known, the cause is stated directly.
    s.storage_classes = Some(vec![
        serde_json::from_value(json!({"metadata": {"name": "standard"}, "provisioner": "x"}))
            .unwrap(),
    ]);
    let f = finding(&run(&s), "pvc.pending").clone();
    assert!(
        f.message.contains("StorageClass \"nope\" does not exist"),
        "{}",
        f.message
    );
}

#[test]
fn pending_claim_waiting_for_first_consumer_is_info() {
    let mut s = healthy();
    s.claims[0] = pvc(
        "data-web-0",
        "Pending",
        json!({"status": {"capacity": null}}),
    );
    s.events = vec![event(
        "PersistentVolumeClaim",
        "data-web-0",
        "WaitForFirstConsumer",
        "waiting for first consumer to be created before binding",
    )];
    let f = finding(&run(&s), "pvc.pending").clone();
    assert_eq!(f.severity, Severity::Info);
}

#[test]
fn lost_claim_is_an_error() {
    let mut s = healthy();
    s.claims[1] = pvc("data-web-1", "Lost", json!({}));
    assert_eq!(finding(&run(&s), "pvc.lost").object, "pvc/data-web-1");
}

#[test]
fn size_and_class_drift_after_a_template_change() {
    let mut s = healthy();
    s.sts = sts(
        json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "2Gi"}}}}]}}),
    );
    let r = run(&s);
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.id == "pvc.size_drift")
            .count(),
        3
    );
    assert!(
        finding(&r, "pvc.size_drift")
            .message
            .contains("requests 1Gi")
            && finding(&r, "pvc.size_drift").message.contains("asks 2Gi")
    );
    assert!(
        finding(&r, "pvc.size_drift")
            .fix
            .as_deref()
            .unwrap()
            .contains("kubectl patch pvc data-web-0")
    );
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.id == "pvc.class_drift")
            .count(),
        3
    );
    // 1024Mi is the same size as 1Gi: no drift.
    s.sts = sts(
        json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1024Mi"}}}}]}}),
    );
    assert!(!ids(&run(&s)).contains(&"pvc.size_drift"));
}

#[test]
fn resize_in_progress_from_spec_allocated_or_conditions() {
    let mut s = healthy();
    s.claims[0] = pvc(
        "data-web-0",
        "Bound",
        json!({"spec": {"resources": {"requests": {"storage": "2Gi"}}}}),
    );
    s.claims[1] = pvc(
        "data-web-1",
        "Bound",
        json!({"status": {"conditions": [{"type": "FileSystemResizePending", "status": "True"}]}}),
    );
    let r = run(&s);
    let objs: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.id == "pvc.resizing")
        .map(|f| f.object.as_str())
        .collect();
    assert_eq!(objs, vec!["pvc/data-web-0", "pvc/data-web-1"]);
    assert!(finding(&r, "pvc.resizing").message.contains("1Gi → 2Gi"));
}

#[test]
fn unready_pod_causes() {
    let mut s = healthy();
    s.pods[0] = pod_with(
        "web-0",
        "web-new",
        json!({"status": {"containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}}]}}),
    );
    s.pods[1] = pod_with(
        "web-1",
        "web-new",
        json!({"spec": {"nodeName": null}, "status": {"phase": "Pending", "containerStatuses": null, "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/4 nodes are available: 4 Insufficient cpu."}]}}),
    );
    s.pods[2] = pod("web-2", "web-new", false);
    s.events = vec![event(
        "Pod",
        "web-2",
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
    )];
    let r = run(&s);
    let msgs: Vec<(&str, &str)> = r
        .findings
        .iter()
        .filter(|f| f.id == "pod.not_ready")
        .map(|f| (f.object.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(msgs.len(), 3);
    assert!(msgs[0].1.contains("CrashLoopBackOff"), "{msgs:?}");
    assert!(msgs[1].1.contains("Insufficient cpu"), "{msgs:?}");
    assert!(msgs[2].1.contains("Readiness probe failed"), "{msgs:?}");
}

#[test]
fn failed_scheduling_event_is_used_when_the_condition_is_missing() {
    let mut s = healthy();
    s.pods[2] = pod_with(
        "web-2",
        "web-new",
        json!({"spec": {"nodeName": null}, "status": {"phase": "Pending", "containerStatuses": null, "conditions": []}}),
    );
    s.events = vec![event(
        "Pod",
        "web-2",
        "FailedScheduling",
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity",
    )];
    assert!(
        finding(&run(&s), "pod.not_ready")
            .message
            .contains("node affinity")
    );
}

#[test]
fn rollout_progress_is_counted_by_revision_label_with_partition() {
    let mut s = healthy();
    s.sts = sts(
        json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}, "status": {"currentRevision": "web-old", "updateRevision": "web-new", "updatedReplicas": 3}}),
    );
    s.pods = vec![
        pod("web-0", "web-old", true),
        pod("web-1", "web-old", true),
        pod("web-2", "web-new", true),
    ];
    let r = run(&s);
    assert_eq!(
        r.ordinals
            .iter()
            .map(|o| o.below_partition)
            .collect::<Vec<_>>(),
        vec![true, true, false]
    );
    assert_eq!(
        r.ordinals
            .iter()
            .map(|o| o.pod.as_ref().unwrap().updated)
            .collect::<Vec<_>>(),
        vec![false, false, true]
    );
    let f = finding(&r, "rollout.partitioned");
    assert!(
        f.message.contains("web-0, web-1") && f.message.contains("1 of 3"),
        "{}",
        f.message
    );
    assert!(!ids(&r).contains(&"rollout.in_progress"));
    // Lower the partition: web-1 is now due and still old (counters say 3, labels say otherwise).
    s.sts = sts(
        json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 1}}}, "status": {"currentRevision": "web-old", "updateRevision": "web-new", "updatedReplicas": 3}}),
    );
    let r = run(&s);
    assert!(
        finding(&r, "rollout.in_progress")
            .message
            .contains("1 of 2 pods at ordinal >= 1")
            && finding(&r, "rollout.in_progress")
                .message
                .contains("still old: web-1")
    );
}

#[test]
fn on_delete_lists_pods_waiting_for_manual_deletion() {
    let mut s = healthy();
    s.sts = sts(
        json!({"spec": {"updateStrategy": {"type": "OnDelete"}}, "status": {"currentRevision": "web-old"}}),
    );
    s.pods = vec![
        pod("web-0", "web-old", true),
        pod("web-1", "web-new", true),
        pod("web-2", "web-old", true),
    ];
    let r = run(&s);
    let f = finding(&r, "rollout.on_delete_pending");
    // Highest ordinal first: the order to delete them in.
    assert!(f.message.contains("web-2, web-0"), "{}", f.message);
    assert_eq!(f.health, crate::analysis::health::Health::Stalled);
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .contains("kubectl delete pod web-2 -n ns")
    );
    assert!(!ids(&r).contains(&"rollout.forced_rollback_trap"));
}

fn trap_snapshot(policy: &str, max_unavailable: Option<i32>) -> StsSnapshot {
    let mut s = healthy();
    let mut ru = json!({"partition": 0});
    if let Some(m) = max_unavailable {
        ru["maxUnavailable"] = json!(m);
    }
    s.sts = sts(
        json!({"spec": {"podManagementPolicy": policy, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": ru}}, "status": {"currentRevision": "web-good", "updateRevision": "web-good"}}),
    );
    s.pods = vec![
        pod("web-0", "web-good", true),
        pod("web-1", "web-good", true),
        pod_with(
            "web-2",
            "web-bad",
            json!({"spec": {"nodeName": "n1"}, "status": {"phase": "Pending", "containerStatuses": [{"name": "c", "image": "bad", "imageID": "", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}),
        ),
    ];
    s
}

#[test]
fn forced_rollback_trap_names_the_pod_and_the_ordered_fix() {
    let r = run(&trap_snapshot("OrderedReady", None));
    let f = finding(&r, "rollout.forced_rollback_trap");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.object, "pod/web-2");
    assert!(
        f.message.contains("web-bad") && f.message.contains("67250"),
        "{}",
        f.message
    );
    let fix = f.fix.as_deref().unwrap();
    // Reverting would roll a template back onto the good pods: the fix is
    // only the delete, recreating the pod from the update revision.
    assert!(!fix.contains("rollout undo"), "{fix}");
    // The fix is the command alone; the why is in the message.
    assert_eq!(fix, "kubectl delete pod web-2 -n ns --wait=false");
    assert!(
        f.message.contains("update revision web-good"),
        "{}",
        f.message
    );
    assert_eq!(f.health, crate::analysis::health::Health::Stalled);
    assert_eq!(r.verdict.health, crate::analysis::health::Health::Stalled);
    // The trapped pod's own finding carries the trap's command.
    assert_eq!(finding(&r, "pod.not_ready").fix.as_deref(), Some(fix));
    assert!(!ids(&r).contains(&"rollout.in_progress"));
}

#[test]
fn no_trap_when_the_stuck_pod_is_on_the_update_revision_or_failed_or_parallel() {
    // Pod on the update revision: an ordinary failing rollout, not the trap.
    let mut s = trap_snapshot("OrderedReady", None);
    s.sts = sts(json!({"status": {"currentRevision": "web-good", "updateRevision": "web-bad"}}));
    assert!(!ids(&run(&s)).contains(&"rollout.forced_rollback_trap"));
    // Failed pods are recreated by the controller.
    let mut s = trap_snapshot("OrderedReady", None);
    s.pods[2] = pod_with("web-2", "web-bad", json!({"status": {"phase": "Failed"}}));
    assert!(!ids(&run(&s)).contains(&"rollout.forced_rollback_trap"));
    // Parallel reaches the update phase.
    assert!(!ids(&run(&trap_snapshot("Parallel", None))).contains(&"rollout.forced_rollback_trap"));
    // ... unless maxUnavailable is used up (kubernetes#137409).
    assert!(
        ids(&run(&trap_snapshot("Parallel", Some(1)))).contains(&"rollout.forced_rollback_trap")
    );
    assert!(
        !ids(&run(&trap_snapshot("Parallel", Some(2)))).contains(&"rollout.forced_rollback_trap")
    );
}

#[test]
fn out_of_range_pod_is_reported() {
    let mut s = healthy();
    s.sts = sts(json!({"spec": {"replicas": 2}}));
    let r = run(&s);
    assert_eq!(r.out_of_range[0].ordinal, 2);
    assert_eq!(finding(&r, "pod.out_of_range").object, "pod/web-2");
}

#[test]
fn quantities() {
    use super::checks::quantity_bytes;
    assert_eq!(quantity_bytes("1Gi"), Some(1073741824.0));
    assert_eq!(quantity_bytes("1024Mi"), quantity_bytes("1Gi"));
    assert_eq!(quantity_bytes("1G"), Some(1e9));
    assert_eq!(quantity_bytes("1e3"), Some(1000.0));
    assert_eq!(quantity_bytes("abc"), None);
}

#[test]
fn json_schema_has_version_and_kind() {
    let v = serde_json::to_value(run(&healthy())).unwrap();
    assert_eq!(v["apiVersion"], "kubectl-sts/v1");
    assert_eq!(v["kind"], "StatefulSetStatus");
    for k in [
        "header",
        "ordinals",
        "outOfRange",
        "strayClaims",
        "findings",
        "notes",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
}

#[test]
fn trap_follows_the_lowest_unhealthy_pod_including_terminating_ones() {
    // web-1 (below web-2) is terminating: OrderedReady waits on it, and the
    // controller recreates it, so web-2 is not (yet) the trap.
    let mut s = trap_snapshot("OrderedReady", None);
    s.pods[1] = pod_with(
        "web-1",
        "web-good",
        json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}, "status": {"phase": "Running"}}),
    );
    assert!(!ids(&run(&s)).contains(&"rollout.forced_rollback_trap"));
    // A terminating pod above the stuck one is not offered for deletion.
    let mut s = trap_snapshot("OrderedReady", None);
    s.pods.push(pod_with(
        "web-3",
        "web-bad",
        json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}, "status": {"phase": "Running"}}),
    ));
    s.sts = sts(
        json!({"spec": {"replicas": 4, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}}, "status": {"currentRevision": "web-good", "updateRevision": "web-good"}}),
    );
    let r = run(&s);
    let fix = finding(&r, "rollout.forced_rollback_trap")
        .fix
        .clone()
        .unwrap_or_default();
    assert!(
        fix.contains("kubectl delete pod web-2 -n ns") && !fix.contains("web-3"),
        "{fix}"
    );
}

#[test]
fn an_out_of_range_claim_stays_in_its_own_template_column() {
    // data and wal, scaled 4 -> 1 after data-web-1 and wal-web-2 were deleted:
    // the lone wal-web-1 and data-web-2 must not shift into the other column.
    let mut s = healthy();
    s.sts = sts(json!({"spec": {"replicas": 1, "volumeClaimTemplates": [
        {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}},
        {"metadata": {"name": "wal"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}
    ]}, "status": {"replicas": 1}}));
    s.all_sets = vec![s.sts.clone()];
    s.pods = vec![pod("web-0", "web-new", true)];
    s.claims = vec![
        pvc("data-web-0", "Bound", json!({})),
        pvc("wal-web-0", "Bound", json!({})),
        pvc("wal-web-1", "Bound", json!({})),
        pvc("data-web-2", "Bound", json!({})),
        pvc("data-web-3", "Bound", json!({})),
        pvc("wal-web-3", "Bound", json!({})),
    ];
    let r = run(&s);
    let cols = |ord: i32| -> Vec<(String, String)> {
        r.out_of_range
            .iter()
            .find(|o| o.ordinal == ord)
            .unwrap()
            .claims
            .iter()
            .map(|c| (c.template.clone(), c.phase.clone()))
            .collect()
    };
    let t = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(cols(1), vec![t("data", "Missing"), t("wal", "Bound")]);
    assert_eq!(cols(2), vec![t("data", "Bound"), t("wal", "Missing")]);
    assert_eq!(cols(3), vec![t("data", "Bound"), t("wal", "Bound")]);
    assert_eq!(r.out_of_range[0].claims[1].name, "wal-web-1");
    // The table puts each claim under its own header.
    let text = crate::render::statefulset::sts_table(&r, false, &crate::render::Style::default());
    let row = text.lines().find(|l| l.starts_with("web-1 ")).unwrap();
    let header = text.lines().find(|l| l.starts_with("POD ")).unwrap();
    assert_eq!(row.find("wal-web-1"), header.find("PVC wal"), "{text}");
}

fn with_canary(to: &str, set_partition: i32, partition: i32) -> StsSnapshot {
    let state = json!({
        "from": "web-old", "to": to, "floor": 0, "replicas": 3,
        "steps": [{"Count": 1}, {"Percent": 100}], "counts": [1, 3], "completed": 0,
        "phase": "running", "fromData": {}, "started": "2026-11-29T00:00:00Z",
        "setPartition": set_partition
    });
    let mut s = healthy();
    s.sts = sts(json!({
        "metadata": {"annotations": {"kubectl-sts.io/canary": state.to_string()}},
        "spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}}},
        "status": {"currentRevision": "web-old", "updateRevision": "web-new"}
    }));
    s.pods = vec![
        pod("web-0", "web-old", true),
        pod("web-1", "web-old", true),
        pod("web-2", "web-new", true),
    ];
    s
}

#[test]
fn a_canary_changed_outside_is_stalled_with_an_honest_way_out() {
    use crate::analysis::health::Health;
    // The canary's own state: between steps, nothing changed outside.
    let r = run(&with_canary("web-new", 2, 2));
    assert_eq!(
        r.canary_stage.as_ref().unwrap().phase,
        CanaryStagePhase::Settled
    );
    // Someone edited the template: the update revision is not the canary's.
    let r = run(&with_canary("web-canary", 2, 2));
    assert_eq!(
        r.canary_stage.as_ref().unwrap().phase,
        CanaryStagePhase::ChangedOutside
    );
    let f = finding(&r, "canary.changed_outside");
    assert_eq!((f.severity, f.health), (Severity::Error, Health::Stalled));
    assert!(
        f.message.contains("template was changed outside"),
        "{}",
        f.message
    );
    let fix = f.fix.as_deref().unwrap();
    assert!(
        fix.contains("kubectl sts canary web -n ns --abort"),
        "{fix}"
    );
    assert!(
        fix.contains("kubectl annotate sts web -n ns kubectl-sts.io/canary-"),
        "{fix}"
    );
    // Someone raised (or lowered) the partition by hand.
    let r = run(&with_canary("web-new", 2, 3));
    let f = finding(&r, "canary.changed_outside");
    assert!(
        f.message
            .contains("partition was changed outside the canary (it is 3, the canary set 2)"),
        "{}",
        f.message
    );
    assert_eq!(r.verdict.health, Health::Stalled);
}
