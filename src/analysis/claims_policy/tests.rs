//! Unit tests for the claim rules on plain structs, and for the findings
//! `status` builds from them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::*;
use crate::analysis::finding::{Finding, Severity};
use crate::analysis::health::Health;
use crate::analysis::statefulset::{ViewOptions, analyze};

fn now() -> Timestamp {
    "2026-01-02T00:00:00Z".parse().unwrap()
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

fn sts(name: &str, templates: &[&str], replicas: i32, extra: Value) -> StatefulSet {
    let mut v = json!({
        "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "generation": 2},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "serviceName": name,
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
            "volumeClaimTemplates": templates.iter().map(|t| json!({"metadata": {"name": t}})).collect::<Vec<_>>()
        },
        "status": {"replicas": replicas, "observedGeneration": 2}
    });
    merge(&mut v, extra);
    serde_json::from_value(v).unwrap()
}

fn pvc(name: &str, extra: Value) -> PersistentVolumeClaim {
    let app = name.split('-').nth(1).unwrap_or("web");
    let mut v = json!({
        "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "resourceVersion": "7",
                     "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"app": app}},
        "spec": {"volumeName": format!("pv-{name}"), "storageClassName": "standard"},
        "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}
    });
    merge(&mut v, extra);
    serde_json::from_value(v).unwrap()
}

fn pod(name: &str, owner: Option<&str>, claim: Option<&str>) -> Pod {
    let app = owner.unwrap_or("none");
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "labels": {"app": app},
            "ownerReferences": owner.map(|o| vec![json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": o, "uid": format!("uid-{o}"), "controller": true})])},
        "spec": {"containers": [{"name": "c", "image": "i"}], "volumes": claim.map(|c| vec![json!({"name": "d", "persistentVolumeClaim": {"claimName": c}})])}
    }))
    .unwrap()
}

fn hpa(name: &str, target: &str, max: i32) -> HorizontalPodAutoscaler {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"maxReplicas": max, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": target}}
    }))
    .unwrap()
}

fn owner_ref(kind: &str, name: &str, uid: &str) -> Value {
    json!({"metadata": {"ownerReferences": [{"apiVersion": if kind == "Pod" {"v1"} else {"apps/v1"}, "kind": kind, "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]}})
}

/// One namespace's objects.
#[derive(Default)]
struct World {
    sets: Vec<StatefulSet>,
    pods: Vec<Pod>,
    claims: Vec<PersistentVolumeClaim>,
    hpas: Vec<HorizontalPodAutoscaler>,
}

impl World {
    fn inputs(&self) -> Inputs<'_> {
        Inputs {
            sets: &self.sets,
            pods: &self.pods,
            claims: &self.claims,
            volumes: None,
            hpas: &self.hpas,
        }
    }

    fn judge(&self, claim: &str, rules: &Rules) -> Judgement {
        let c = self
            .claims
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(claim))
            .unwrap();
        judge(c, &self.inputs(), rules, now())
    }

    fn keep(&self, claim: &str) -> Vec<Keep> {
        match self.judge(claim, &Rules::default()) {
            Judgement::Kept(_, k) => k,
            other => panic!("{claim} is not kept: {other:?}"),
        }
    }

    /// The status snapshot of set `name` (the set's own pods by selector).
    fn snapshot(&self, name: &str) -> StsSnapshot {
        let sts = self
            .sets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name))
            .unwrap()
            .clone();
        StsSnapshot {
            pods: self
                .pods
                .iter()
                .filter(|p| {
                    p.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("app"))
                        .map(String::as_str)
                        == Some(name)
                })
                .cloned()
                .collect(),
            namespace_pods: self.pods.clone(),
            all_sets: self.sets.clone(),
            claims: self.claims.clone(),
            hpas: self.hpas.clone(),
            sts,
            ..StsSnapshot::default()
        }
    }

    fn findings(&self, name: &str, id: &str) -> Vec<Finding> {
        analyze(&self.snapshot(name), &ViewOptions::default(), now())
            .findings
            .into_iter()
            .filter(|f| f.id == id)
            .collect()
    }
}

fn claims(names: &[&str]) -> Vec<PersistentVolumeClaim> {
    names.iter().map(|n| pvc(n, json!({}))).collect()
}

fn candidate(j: &Judgement) -> &LeftBehind {
    match j {
        Judgement::Candidate(l) => l,
        other => panic!("not a candidate: {other:?}"),
    }
}

/// web scaled 3 → 1: web-0 runs and mounts data-web-0.
fn scaled_3_to_1() -> World {
    World {
        sets: vec![sts("web", &["data"], 1, json!({}))],
        pods: vec![pod("web-0", Some("web"), Some("data-web-0"))],
        claims: claims(&["data-web-0", "data-web-1", "data-web-2"]),
        hpas: Vec::new(),
    }
}

#[test]
fn scale_down_leaves_candidates_with_their_origin() {
    let w = scaled_3_to_1();
    assert_eq!(w.judge("data-web-0", &Rules::default()), Judgement::Live);
    let j = w.judge("data-web-2", &Rules::default());
    assert_eq!(
        candidate(&j),
        &LeftBehind {
            evidence: Evidence::OutOfRange,
            statefulsets: vec!["web".into()],
            template: "data".into(),
            ordinal: 2,
            origin: Origin::OutOfRange {
                ordinal: 2,
                ranges: vec![("web".into(), 0..1)],
            },
        }
    );
    assert_eq!(
        candidate(&j).origin.to_string(),
        "ordinal 2 outside 0..0 of web"
    );

    let f = w.findings("web", "pvc.out_of_range");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].severity, Severity::Warning);
    assert_eq!(f[0].health, Health::Healthy);
    assert_eq!(f[0].object, "statefulset/web");
    assert_eq!(
        f[0].message,
        "2 claims left behind by a scale-down (ordinals outside the live range 0..0): data-web-1, data-web-2"
    );
    assert_eq!(
        f[0].fix.as_deref(),
        Some("kubectl sts prune-pvcs web -n ns")
    );
    assert!(w.findings("web", "pvc.kept").is_empty());
}

#[test]
fn annotated_mounted_and_autoscaled_claims_are_kept_with_their_reason() {
    // web scaled 4 → 1; an HPA may take it back to 3; data-web-3 opts out;
    // a pod of another app mounts data-web-1.
    let mut w = World {
        sets: vec![sts("web", &["data"], 1, json!({}))],
        pods: vec![
            pod("web-0", Some("web"), Some("data-web-0")),
            pod("backup", None, Some("data-web-1")),
        ],
        claims: claims(&["data-web-0", "data-web-1", "data-web-2", "data-web-4"]),
        hpas: vec![hpa("web-hpa", "web", 3)],
    };
    w.claims.push(pvc(
        "data-web-3",
        json!({"metadata": {"annotations": {OPT_OUT_ANNOTATION: OPT_OUT_VALUE}}}),
    ));
    let autoscaler = Keep::Autoscaler {
        hpa: "web-hpa".into(),
        set: "web".into(),
        max: 3,
        range: 0..3,
    };
    assert_eq!(
        w.keep("data-web-1"),
        vec![
            autoscaler.clone(),
            Keep::MountedBy {
                pod: "backup".into()
            }
        ]
    );
    assert_eq!(w.keep("data-web-2"), vec![autoscaler.clone()]);
    assert_eq!(
        w.keep("data-web-3"),
        vec![Keep::Annotated {
            value: OPT_OUT_VALUE.into()
        }]
    );
    assert_eq!(
        candidate(&w.judge("data-web-4", &Rules::default())).ordinal,
        4
    );
    // --ignore-autoscaler drops only that reason.
    let ignore = Rules {
        ignore_autoscaler: true,
        ..Rules::default()
    };
    assert_eq!(candidate(&w.judge("data-web-2", &ignore)).ordinal, 2);
    assert!(matches!(w.judge("data-web-1", &ignore), Judgement::Kept(_, k) if k.len() == 1));

    let kept = w.findings("web", "pvc.kept");
    let lines: Vec<(&str, Severity, Option<&str>)> = kept
        .iter()
        .map(|f| (f.message.as_str(), f.severity, f.fix.as_deref()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (
                "kept: HPA web-hpa may scale web up to 3 replicas (ordinals 0..2); prune-pvcs --ignore-autoscaler overrides; mounted by pod backup: data-web-1",
                Severity::Info,
                None
            ),
            (
                "kept: HPA web-hpa may scale web up to 3 replicas (ordinals 0..2); prune-pvcs --ignore-autoscaler overrides: data-web-2",
                Severity::Info,
                None
            ),
            (
                "kept: annotated kubectl-sts.io/prune=never: data-web-3",
                Severity::Info,
                None
            ),
        ]
    );
    assert!(kept.iter().all(|f| f.health == Health::Healthy));
    let oor = w.findings("web", "pvc.out_of_range");
    assert_eq!(oor.len(), 1);
    assert!(
        oor[0].message.ends_with("): data-web-4"),
        "{}",
        oor[0].message
    );
    // Only INFO left once data-web-4 is gone: the worst severity is info.
    w.claims
        .retain(|c| c.metadata.name.as_deref() != Some("data-web-4"));
    let r = analyze(&w.snapshot("web"), &ViewOptions::default(), now());
    assert!(
        r.findings
            .iter()
            .filter(|f| f.id.starts_with("pvc."))
            .all(|f| f.severity == Severity::Info)
    );
    assert!(r.findings.iter().any(|f| f.id == "pvc.kept"));
}

#[test]
fn one_kept_finding_per_reason() {
    let mut w = scaled_3_to_1();
    w.claims = (0..5)
        .map(|i| {
            let extra = if i >= 2 {
                json!({"metadata": {"annotations": {OPT_OUT_ANNOTATION: OPT_OUT_VALUE}}})
            } else {
                json!({})
            };
            pvc(&format!("data-web-{i}"), extra)
        })
        .collect();
    let kept = w.findings("web", "pvc.kept");
    assert_eq!(kept.len(), 1, "{kept:#?}");
    assert_eq!(
        kept[0].message,
        "kept: annotated kubectl-sts.io/prune=never: data-web-2, data-web-3, data-web-4"
    );
    assert_eq!(kept[0].object, "statefulset/web");
}

#[test]
fn retention_is_judged_by_the_claims_owner_references() {
    // whenScaled switched to Delete after a 3 → 1 scale-down: the stranded
    // claims have no ownerReference; nothing will delete them.
    let delete = json!({"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete", "whenDeleted": "Retain"}}});
    let mut w = scaled_3_to_1();
    w.sets = vec![sts("web", &["data"], 1, delete.clone())];
    assert_eq!(
        candidate(&w.judge("data-web-1", &Rules::default())).ordinal,
        1
    );
    assert_eq!(w.findings("web", "pvc.out_of_range").len(), 1);

    // A real ownerReference to a pod that exists: the garbage collector acts.
    w.pods.push(pod("web-2", Some("web"), Some("data-web-2")));
    w.claims[2] = pvc("data-web-2", owner_ref("Pod", "web-2", "uid-web-2"));
    assert_eq!(
        w.keep("data-web-2"),
        vec![
            Keep::ScaleInFlight {
                set: "web".into(),
                why: InFlight::PodOutOfRange {
                    pod: "web-2".into(),
                    range: 0..1
                }
            },
            Keep::PodExists {
                pod: "web-2".into(),
                terminating: false
            },
            Keep::MountedBy {
                pod: "web-2".into()
            },
            Keep::OwnerReference {
                kind: "Pod".into(),
                name: "web-2".into(),
                uid: "uid-web-2".into(),
                owner: OwnerState::Present
            },
        ]
    );
    assert_eq!(
        w.keep("data-web-2")[3].to_string(),
        "the garbage collector deletes it with pod web-2 (uid uid-web-2), its owner"
    );
    // The same reference with another uid: the owner is gone.
    w.claims[2] = pvc("data-web-2", owner_ref("Pod", "web-2", "old"));
    assert_eq!(
        w.keep("data-web-2")[3].to_string(),
        "its owner pod web-2 (uid old) is gone: the garbage collector deletes it"
    );
    // whenDeleted: Delete: a reference to the StatefulSet.
    w.pods.truncate(1);
    w.claims[1] = pvc("data-web-1", owner_ref("StatefulSet", "web", "uid-web"));
    assert_eq!(
        sentence(&w.keep("data-web-1")),
        "the garbage collector deletes it with statefulset web (uid uid-web), its owner"
    );
    w.claims[1] = pvc("data-web-1", owner_ref("Widget", "w", "u"));
    assert_eq!(
        sentence(&w.keep("data-web-1")),
        "owned by widget w (uid u): the garbage collector deletes it with its owner"
    );
}

#[test]
fn scaled_to_zero_is_kept_unless_asked() {
    let w = World {
        sets: vec![sts("web", &["data"], 0, json!({}))],
        claims: claims(&["data-web-0", "data-web-1"]),
        ..World::default()
    };
    assert_eq!(
        w.keep("data-web-0"),
        vec![Keep::ScaledToZero { set: "web".into() }]
    );
    let rules = Rules {
        include_scaled_to_zero: true,
        ..Rules::default()
    };
    assert_eq!(candidate(&w.judge("data-web-1", &rules)).ordinal, 1);
    assert!(w.findings("web", "pvc.out_of_range").is_empty());
    let kept = w.findings("web", "pvc.kept");
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].message,
        "kept: web is scaled to 0, often a pause, not a shrink; prune-pvcs --include-scaled-to-zero makes its claims candidates: data-web-0, data-web-1"
    );
}

#[test]
fn each_claim_in_its_own_template() {
    // pg with templates data and wal scaled 4 → 1 after data-pg-1 and
    // wal-pg-2 were deleted.
    let w = World {
        sets: vec![sts("pg", &["data", "wal"], 1, json!({}))],
        pods: vec![pod("pg-0", Some("pg"), Some("data-pg-0"))],
        claims: claims(&[
            "data-pg-0",
            "wal-pg-0",
            "wal-pg-1",
            "data-pg-2",
            "data-pg-3",
            "wal-pg-3",
        ]),
        ..World::default()
    };
    let t = |c: &str| {
        let j = w.judge(c, &Rules::default());
        let l = candidate(&j);
        (l.template.clone(), l.ordinal)
    };
    assert_eq!(t("wal-pg-1"), ("wal".into(), 1));
    assert_eq!(t("data-pg-2"), ("data".into(), 2));
    assert_eq!(t("wal-pg-3"), ("wal".into(), 3));
    let f = w.findings("pg", "pvc.out_of_range");
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].message,
        "4 claims left behind by a scale-down (ordinals outside the live range 0..0): wal-pg-1, data-pg-2, data-pg-3, wal-pg-3"
    );
}

#[test]
fn ambiguous_names_are_kept_for_the_set_where_they_are_out_of_range() {
    // a (template b-c) and c-a (template b) both produce b-c-a-N.
    let w = World {
        sets: vec![
            sts("a", &["b-c"], 1, json!({})),
            sts("c-a", &["b"], 3, json!({})),
        ],
        claims: claims(&["b-c-a-0", "b-c-a-2", "b-c-a-5"]),
        ..World::default()
    };
    assert_eq!(w.judge("b-c-a-0", &Rules::default()), Judgement::Live);
    assert_eq!(
        w.keep("b-c-a-2"),
        vec![Keep::AmbiguousOwner {
            live_in: vec!["c-a".into()],
            ordinal: 2
        }]
    );
    let j = w.judge("b-c-a-5", &Rules::default());
    assert_eq!(candidate(&j).statefulsets, vec!["a", "c-a"]);
    let kept = w.findings("a", "pvc.kept");
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].message,
        "kept: the name also fits statefulset c-a, where ordinal 2 is live: b-c-a-2"
    );
    assert!(w.findings("c-a", "pvc.kept").is_empty());
    for set in ["a", "c-a"] {
        let f = w.findings(set, "pvc.out_of_range");
        assert_eq!(f.len(), 1, "{set}");
        assert!(f[0].message.ends_with("): b-c-a-5"), "{}", f[0].message);
    }
}

#[test]
fn scale_in_flight_terminating_pods_deletion_and_age() {
    let mut w = scaled_3_to_1();
    w.sets = vec![sts("web", &["data"], 1, json!({"status": {"replicas": 3}}))];
    assert_eq!(
        sentence(&w.keep("data-web-1")),
        "scale of web in flight (spec.replicas 1, status.replicas 3)"
    );
    w.sets = vec![sts(
        "web",
        &["data"],
        1,
        json!({"status": {"observedGeneration": 1}}),
    )];
    assert_eq!(
        sentence(&w.keep("data-web-1")),
        "web has changes the controller has not observed yet"
    );
    w.sets = vec![sts("web", &["data"], 1, json!({}))];
    let mut term = pod("web-1", None, None);
    term.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
    w.pods.push(term);
    assert_eq!(
        sentence(&w.keep("data-web-1")),
        "pod web-1 exists (terminating)"
    );
    let mut gone = pvc("data-web-2", json!({}));
    gone.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
    w.claims[2] = gone;
    assert_eq!(sentence(&w.keep("data-web-2")), "already being deleted");
    let young = Rules {
        older_than: Some(90 * 60),
        ..Rules::default()
    };
    w.claims[2] = pvc(
        "data-web-2",
        json!({"metadata": {"creationTimestamp": "2026-01-01T23:53:00Z"}}),
    );
    match w.judge("data-web-2", &young) {
        Judgement::Kept(_, k) => {
            assert_eq!(sentence(&k), "7m old, younger than --older-than 90m");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn removed_templates_and_deleted_sets_need_include_deleted() {
    let mut w = scaled_3_to_1();
    w.claims
        .extend(claims(&["olddata-web-0", "olddata-web-4", "data-gone-0"]));
    w.claims.push(pvc(
        "olddata-web-5",
        json!({"metadata": {"annotations": {OPT_OUT_ANNOTATION: OPT_OUT_VALUE}}}),
    ));
    assert_eq!(
        w.judge("olddata-web-4", &Rules::default()),
        Judgement::Unrelated
    );
    let all = Rules {
        include_deleted: true,
        ..Rules::default()
    };
    let j = w.judge("olddata-web-4", &all);
    assert_eq!(candidate(&j).evidence, Evidence::RemovedTemplate);
    assert_eq!(
        candidate(&j).origin.to_string(),
        "template \"olddata\" is no longer in web (selector labels and name)"
    );
    let j = w.judge("data-gone-0", &all);
    assert_eq!(
        candidate(&j).origin.to_string(),
        "no StatefulSet \"gone\" (guessed from its labels and name)"
    );
    match w.judge("olddata-web-0", &all) {
        Judgement::Kept(l, k) => {
            assert_eq!(l.evidence, Evidence::RemovedTemplate);
            assert_eq!(
                sentence(&k),
                "ordinal 0 is live in web; a rollback to the old template would use it; pod web-0 exists"
            );
        }
        other => panic!("{other:?}"),
    }

    // status: one WARNING per old template, with the prune fix.
    let f = w.findings("web", "pvc.template_removed");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0].message,
        "1 claim of volumeClaimTemplate \"olddata\", which the StatefulSet no longer has (removed or renamed), mounted by no pod: olddata-web-4"
    );
    assert_eq!(
        f[0].fix.as_deref(),
        Some(
            "if their data is no longer needed: kubectl sts prune-pvcs web -n ns --include-deleted"
        )
    );
    let kept: Vec<String> = w
        .findings("web", "pvc.kept")
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert_eq!(
        kept,
        vec![
            "kept: ordinal 0 is live in web; a rollback to the old template would use it; pod web-0 exists: olddata-web-0",
            "kept: annotated kubectl-sts.io/prune=never: olddata-web-5",
        ]
    );
    // The deleted set's claim is nobody's finding in web's view.
    assert!(
        analyze(&w.snapshot("web"), &ViewOptions::default(), now())
            .findings
            .iter()
            .all(|f| !f.message.contains("data-gone-0"))
    );
}

#[test]
fn older_than_threshold_is_shown_as_written() {
    assert_eq!(fmt_seconds(90), "90s");
    assert_eq!(fmt_seconds(1800), "30m");
    assert_eq!(fmt_seconds(43200), "12h");
    assert_eq!(fmt_seconds(7 * 86400), "7d");
    assert_eq!(fmt_seconds(0), "0s");
}

#[test]
fn a_misspelt_opt_out_value_still_keeps_the_claim() {
    for value in ["Never", "false", " never", "NEVER", ""] {
        let mut w = scaled_3_to_1();
        w.claims = vec![
            pvc("data-web-0", json!({})),
            pvc(
                "data-web-1",
                json!({"metadata": {"annotations": {OPT_OUT_ANNOTATION: value}}}),
            ),
        ];
        assert_eq!(
            w.keep("data-web-1"),
            vec![Keep::Annotated {
                value: value.to_string()
            }],
            "{value:?}"
        );
        let kept = w.findings("web", "pvc.kept");
        assert!(
            kept[0].message.contains("any value keeps the claim"),
            "{value:?}: {}",
            kept[0].message
        );
        assert!(
            w.findings("web", "pvc.out_of_range").is_empty(),
            "{value:?}"
        );
    }
}
