#![allow(clippy::unwrap_used, clippy::expect_used)]
use k8s_openapi::api::core::v1::{Node, PodTemplateSpec, Toleration};
use serde_json::{Value, json};

use super::eligibility::*;

fn node(labels: Value, taints: Value) -> Node {
    serde_json::from_value(
        json!({"metadata": {"name": "n1", "labels": labels}, "spec": {"taints": taints}}),
    )
    .unwrap()
}
fn tpl(spec: Value) -> PodTemplateSpec {
    let mut spec = spec;
    spec["containers"] = json!([{"name": "c", "image": "i"}]);
    serde_json::from_value(json!({"spec": spec})).unwrap()
}
fn verdict(n: &Node, t: &PodTemplateSpec) -> (bool, bool) {
    let e = should_run(n, t);
    (e.should_run, e.should_continue_running)
}
fn aff(exprs: Value) -> Value {
    json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": exprs}]}}}})
}

#[test]
fn plain_node_is_eligible() {
    assert_eq!(
        verdict(&node(json!({}), json!([])), &tpl(json!({}))),
        (true, true)
    );
}

#[test]
fn node_selector_key_value_must_match_and_blocker_names_it() {
    let t = tpl(json!({"nodeSelector": {"disk": "ssd"}}));
    assert_eq!(
        verdict(&node(json!({"disk": "ssd"}), json!([])), &t),
        (true, true)
    );
    let e = should_run(&node(json!({"disk": "hdd"}), json!([])), &t);
    assert_eq!((e.should_run, e.should_continue_running), (false, false));
    assert_eq!(
        e.blockers,
        vec![Blocker::NodeSelector {
            key: "disk".into(),
            want: "ssd".into(),
            have: Some("hdd".into())
        }]
    );
    assert_eq!(
        e.blockers[0].describe(),
        "nodeSelector disk=ssd: node has disk=hdd"
    );
    let e = should_run(&node(json!({}), json!([])), &t);
    assert_eq!(
        e.blockers[0].describe(),
        "nodeSelector disk=ssd: label missing"
    );
}

#[test]
fn affinity_operators_in_notin_exists_doesnotexist() {
    let n = node(json!({"zone": "a"}), json!([]));
    let cases = [
        (
            json!([{"key": "zone", "operator": "In", "values": ["a", "b"]}]),
            true,
        ),
        (
            json!([{"key": "zone", "operator": "In", "values": ["b"]}]),
            false,
        ),
        (
            json!([{"key": "zone", "operator": "NotIn", "values": ["b"]}]),
            true,
        ),
        (
            json!([{"key": "zone", "operator": "NotIn", "values": ["a"]}]),
            false,
        ),
        (
            json!([{"key": "other", "operator": "NotIn", "values": ["a"]}]),
            true,
        ),
        (json!([{"key": "zone", "operator": "Exists"}]), true),
        (json!([{"key": "other", "operator": "Exists"}]), false),
        (json!([{"key": "other", "operator": "DoesNotExist"}]), true),
        (json!([{"key": "zone", "operator": "DoesNotExist"}]), false),
        // parse errors: no values for In, values for Exists
        (
            json!([{"key": "zone", "operator": "In", "values": []}]),
            false,
        ),
        (
            json!([{"key": "zone", "operator": "Exists", "values": ["a"]}]),
            false,
        ),
    ];
    for (exprs, want) in cases {
        assert_eq!(
            should_run(&n, &tpl(aff(exprs.clone()))).should_run,
            want,
            "{exprs}"
        );
    }
}

#[test]
fn affinity_gt_lt_parse_integers() {
    let n = node(json!({"gen": "5", "name": "x"}), json!([]));
    let cases = [
        (
            json!([{"key": "gen", "operator": "Gt", "values": ["4"]}]),
            true,
        ),
        (
            json!([{"key": "gen", "operator": "Gt", "values": ["5"]}]),
            false,
        ),
        (
            json!([{"key": "gen", "operator": "Lt", "values": ["6"]}]),
            true,
        ),
        (
            json!([{"key": "gen", "operator": "Lt", "values": ["5"]}]),
            false,
        ),
        (
            json!([{"key": "name", "operator": "Gt", "values": ["1"]}]),
            false,
        ),
        (
            json!([{"key": "missing", "operator": "Lt", "values": ["1"]}]),
            false,
        ),
        (
            json!([{"key": "gen", "operator": "Gt", "values": ["x"]}]),
            false,
        ),
        (
            json!([{"key": "gen", "operator": "Gt", "values": ["1", "2"]}]),
            false,
        ),
    ];
    for (exprs, want) in cases {
        assert_eq!(
            should_run(&n, &tpl(aff(exprs.clone()))).should_run,
            want,
            "{exprs}"
        );
    }
}

#[test]
fn terms_are_ored_and_expressions_anded_empty_terms_match_nothing() {
    let n = node(json!({"a": "1", "b": "2"}), json!([]));
    let t = tpl(
        json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}, {"key": "b", "operator": "In", "values": ["9"]}]},
            {"matchExpressions": [{"key": "b", "operator": "Exists"}]}
        ]}}}}),
    );
    assert!(should_run(&n, &t).should_run);
    let t = tpl(
        json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}, {"key": "b", "operator": "In", "values": ["9"]}]}
        ]}}}}),
    );
    let e = should_run(&n, &t);
    assert!(!e.should_run && !e.should_continue_running);
    assert_eq!(
        e.blockers[0].describe(),
        "required node affinity: b In [9] (node has b=2)"
    );
    let t = tpl(
        json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{}]}}}}),
    );
    assert!(!should_run(&n, &t).should_run);
    // a term with a parse error does not match, another term still can
    let t = tpl(
        json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["z"]}]},
            {"matchExpressions": [{"key": "a", "operator": "Exists"}]}
        ]}}}}),
    );
    assert!(should_run(&n, &t).should_run);
}

#[test]
fn match_fields_on_metadata_name() {
    let n = node(json!({}), json!([]));
    let f = |op: &str, v: &str, key: &str| {
        tpl(
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": key, "operator": op, "values": [v]}]}]}}}}),
        )
    };
    assert!(should_run(&n, &f("In", "n1", "metadata.name")).should_run);
    assert!(!should_run(&n, &f("In", "n2", "metadata.name")).should_run);
    assert!(should_run(&n, &f("NotIn", "n2", "metadata.name")).should_run);
    assert!(!should_run(&n, &f("NotIn", "n1", "metadata.name")).should_run);
    assert!(
        !should_run(&n, &f("Exists", "n1", "metadata.name")).should_run,
        "only In/NotIn allowed"
    );
}

#[test]
fn template_node_name_pins() {
    let n = node(json!({}), json!([]));
    assert_eq!(verdict(&n, &tpl(json!({"nodeName": "n1"}))), (true, true));
    let e = should_run(&n, &tpl(json!({"nodeName": "other"})));
    assert_eq!((e.should_run, e.should_continue_running), (false, false));
    assert_eq!(
        e.blockers,
        vec![Blocker::NodeName {
            pinned_to: "other".into()
        }]
    );
}

#[test]
fn noschedule_stops_new_pods_noexecute_removes_prefer_is_ignored() {
    let t = tpl(json!({}));
    assert_eq!(
        verdict(
            &node(
                json!({}),
                json!([{"key": "k", "value": "v", "effect": "NoSchedule"}])
            ),
            &t
        ),
        (false, true)
    );
    assert_eq!(
        verdict(
            &node(json!({}), json!([{"key": "k", "effect": "NoExecute"}])),
            &t
        ),
        (false, false)
    );
    assert_eq!(
        verdict(
            &node(
                json!({}),
                json!([{"key": "k", "effect": "PreferNoSchedule"}])
            ),
            &t
        ),
        (true, true)
    );
    let e = should_run(
        &node(
            json!({}),
            json!([{"key": "k", "value": "v", "effect": "NoSchedule"}]),
        ),
        &t,
    );
    assert_eq!(
        e.blockers[0].describe(),
        "taint k=v:NoSchedule not tolerated"
    );
}

#[test]
fn toleration_matching_key_value_effect_and_empty_key_exists() {
    let n = node(
        json!({}),
        json!([{"key": "k", "value": "v", "effect": "NoExecute"}]),
    );
    let cases = [
        (
            json!([{"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute"}]),
            true,
        ),
        (json!([{"key": "k", "value": "v"}]), true),
        (
            json!([{"key": "k", "operator": "Equal", "value": "w"}]),
            false,
        ),
        (json!([{"key": "k", "operator": "Exists"}]), true),
        (
            json!([{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]),
            false,
        ),
        (json!([{"operator": "Exists"}]), true),
        (json!([{"operator": "Exists", "effect": "NoExecute"}]), true),
        (json!([{"key": "other", "operator": "Exists"}]), false),
        (json!([{"key": "k", "operator": "Gt", "value": "1"}]), false),
    ];
    for (tols, want) in cases {
        assert_eq!(
            should_run(&n, &tpl(json!({"tolerations": tols}))).should_run,
            want,
            "{tols}"
        );
    }
}

#[test]
fn cordoned_notready_and_pressure_nodes_through_lifecycle_taints() {
    let t = tpl(json!({}));
    // cordon: unschedulable:NoSchedule is tolerated automatically
    let cordoned: Node = serde_json::from_value(
        json!({"metadata": {"name": "n1"}, "spec": {"unschedulable": true}}),
    )
    .unwrap();
    let c = with_lifecycle_taints(&cordoned);
    assert_eq!(
        c.spec.as_ref().unwrap().taints.as_ref().unwrap()[0].key,
        "node.kubernetes.io/unschedulable"
    );
    assert_eq!(verdict(&c, &t), (true, true));
    // NotReady: not-ready:NoSchedule is NOT tolerated, NoExecute is
    let nr: Node = serde_json::from_value(json!({"metadata": {"name": "n1"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}})).unwrap();
    assert_eq!(verdict(&with_lifecycle_taints(&nr), &t), (false, true));
    let both = node(
        json!({}),
        json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}, {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]),
    );
    assert_eq!(verdict(&both, &t), (false, true));
    let unk: Node = serde_json::from_value(json!({"metadata": {"name": "n1"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}})).unwrap();
    assert_eq!(verdict(&with_lifecycle_taints(&unk), &t), (false, true));
    for p in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
        let n: Node = serde_json::from_value(json!({"metadata": {"name": "n1"}, "status": {"conditions": [{"type": p, "status": "True"}]}})).unwrap();
        assert_eq!(verdict(&with_lifecycle_taints(&n), &t), (true, true), "{p}");
    }
}

#[test]
fn network_unavailable_tolerated_only_with_host_network() {
    let n = node(
        json!({}),
        json!([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]),
    );
    assert_eq!(verdict(&n, &tpl(json!({}))), (false, true));
    assert_eq!(
        verdict(&n, &tpl(json!({"hostNetwork": true}))),
        (true, true)
    );
}

#[test]
fn automatic_tolerations_replace_identical_user_ones_and_append_otherwise() {
    let t = tpl(json!({"tolerations": [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoSchedule"}
    ]}));
    let tols = daemon_tolerations(t.spec.as_ref().unwrap());
    let nr: Vec<&Toleration> = tols
        .iter()
        .filter(|x| x.key.as_deref() == Some("node.kubernetes.io/not-ready"))
        .collect();
    assert_eq!(nr.len(), 1);
    assert_eq!(
        nr[0].toleration_seconds, None,
        "replaced by the automatic one, infinite"
    );
    let un: Vec<&Toleration> = tols
        .iter()
        .filter(|x| x.key.as_deref() == Some("node.kubernetes.io/unreachable"))
        .collect();
    assert_eq!(un.len(), 2, "different effect: kept and automatic appended");
    assert_eq!(tols.len(), 7);
    assert_eq!(
        daemon_tolerations(tpl(json!({"hostNetwork": true})).spec.as_ref().unwrap()).len(),
        7
    );
}

#[test]
fn every_blocker_is_listed_selector_affinity_and_taints() {
    let n = node(
        json!({"zone": "b"}),
        json!([{"key": "k", "effect": "NoExecute"}, {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
    );
    let mut spec = aff(json!([
        {"key": "zone", "operator": "In", "values": ["a"]},
        {"key": "gpu", "operator": "Exists"}
    ]));
    spec["nodeSelector"] = json!({"disk": "ssd"});
    let e = should_run(&n, &tpl(spec));
    assert_eq!((e.should_run, e.should_continue_running), (false, false));
    assert_eq!(
        e.blockers.iter().map(Blocker::describe).collect::<Vec<_>>(),
        vec![
            "nodeSelector disk=ssd: label missing",
            "required node affinity: zone In [a] (node has zone=b), gpu Exists [] (node has no label gpu)",
            "taint k:NoExecute not tolerated",
            "taint node-role.kubernetes.io/control-plane:NoSchedule not tolerated",
        ]
    );
    // a NoSchedule taint alone: may stay; with a selector failure: may not
    let n = node(json!({}), json!([{"key": "k", "effect": "NoSchedule"}]));
    let e = should_run(&n, &tpl(json!({"nodeSelector": {"a": "b"}})));
    assert_eq!((e.should_run, e.should_continue_running), (false, false));
    assert_eq!(e.blockers.len(), 2);
    assert!(matches!(e.blockers[0], Blocker::NodeSelector { .. }));
    assert!(e.blockers[1].is_taint());
    let e = should_run(&n, &tpl(json!({})));
    assert_eq!((e.should_run, e.should_continue_running), (false, true));
}
