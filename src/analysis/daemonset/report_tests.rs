#![allow(clippy::unwrap_used, clippy::expect_used)]
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use super::{resolve, target_node};

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
