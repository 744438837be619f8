//! Case ds-quota (`../shared/cases/ds-quota.yaml`, from
//! kubernetes/kubernetes#100683): a namespace ResourceQuota allows 1 pod
//! and a DaemonSet selects 3 nodes. The controller counts 3 desired
//! whatever happens, creates 1 pod, and records the rejections only as
//! Warning FailedCreate events on the DaemonSet.
//!
//! Expected (the case's header), for ds/log-shipper:
//! - after step 2: DESIRED 3, CURRENT 1, READY 1; the two nodes without a
//!   pod are Missing with the cause from FailedCreate (the quota: pods,
//!   limited 1); an error-level finding naming the quota; the case's nodes
//!   are not reported as excluded;
//! - after step 3 (quota raised to 5): 3/3/3, no Missing node, no quota
//!   finding.
//!
//! Adapted to the shared sandbox as conventions.md asks: the namespace is
//! the test's own, the nodes are named after it and carry the test taint
//! (`kubectl-sts.test/<ns>:NoSchedule`) that the DaemonSet tolerates, and
//! its `bugcase` label value is the namespace.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Ns, kubectl, kubectl_stdin, wait_until};
use serde_json::{Value, json};

struct Nodes(Vec<String>);
impl Drop for Nodes {
    fn drop(&mut self) {
        let mut a = vec!["delete", "node", "--wait=false", "--ignore-not-found"];
        a.extend(self.0.iter().map(String::as_str));
        let _ = kubectl(&a);
    }
}

/// The case's three nodes, as kwok nodes of this test.
fn case_nodes(ns: &Ns) -> Nodes {
    let names: Vec<String> = (1..=3).map(|i| format!("{}-n{i}", ns.name)).collect();
    let res = json!({"cpu": "8", "memory": "32Gi", "pods": "110"});
    let items: Vec<Value> = names
        .iter()
        .map(|n| {
            json!({"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": n,
                    "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                    "labels": {"kubernetes.io/hostname": n, "kubernetes.io/os": "linux",
                               "kubernetes.io/arch": "amd64", "type": "kwok", "bugcase": ns.name}},
                "spec": {"taints": [{"key": format!("kubectl-sts.test/{}", ns.name), "effect": "NoSchedule"}]},
                "status": {"capacity": res, "allocatable": res,
                           "nodeInfo": {"kubeletVersion": "fake", "operatingSystem": "linux", "architecture": "amd64"}}})
        })
        .collect();
    kubectl_stdin(
        &["create", "--validate=false", "-f", "-"],
        &json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string(),
    )
    .expect_code(0);
    let guard = Nodes(names.clone());
    for n in &names {
        wait_until(&format!("node {n} Ready"), Duration::from_secs(60), || {
            let v = kubectl(&["get", "node", n, "-o", "json"]).json();
            v["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            }) && !v["spec"]["taints"].as_array().is_some_and(|ts| {
                ts.iter()
                    .any(|t| t["key"] == "node.kubernetes.io/not-ready")
            })
        });
    }
    guard
}

/// `status ds/log-shipper -o json` once the DaemonSet's status is settled
/// (observedGeneration current, two identical reads) and `check` holds.
fn settled_report(ns: &Ns, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    wait_until(
        &format!("log-shipper: {what}"),
        Duration::from_secs(240),
        || {
            let d = ns.get("daemonset", "log-shipper");
            let ok = d["status"]["observedGeneration"] == d["metadata"]["generation"]
                && d["status"] == last
                && check(&d["status"]);
            last = d["status"].clone();
            ok
        },
    );
    ns.sts(&["status", "ds/log-shipper", "-o", "json"])
        .expect_code(0)
        .json()
}

fn row<'a>(j: &'a Value, node: &str) -> &'a Value {
    j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == node)
        .unwrap_or_else(|| panic!("no row for {node} in {j}"))
}

#[test]
fn case_ds_quota() {
    // step 1: namespace + quota (wait for its status), nodes, DaemonSet
    let ns = Ns::new("case-ds-quota");
    ns.apply(
        r#"{"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "pod-cap"}, "spec": {"hard": {"pods": "1"}}}"#,
    );
    wait_until("quota status", Duration::from_secs(60), || {
        let q = ns.get("resourcequota", "pod-cap");
        q["status"]["hard"]["pods"] == "1" && q["status"]["used"]["pods"] == "0"
    });
    let nodes = case_nodes(&ns);
    ns.apply(
        &json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "log-shipper"},
            "spec": {"selector": {"matchLabels": {"app": "log-shipper"}},
                "template": {"metadata": {"labels": {"app": "log-shipper"}},
                    "spec": {"nodeSelector": {"bugcase": ns.name},
                        "tolerations": [{"key": format!("kubectl-sts.test/{}", ns.name), "operator": "Exists", "effect": "NoSchedule"}],
                        "containers": [{"name": "shipper", "image": "nginx:1.25"}]}}}})
        .to_string(),
    );

    // step 2: one pod exists and a FailedCreate was recorded
    wait_until("a FailedCreate event", Duration::from_secs(120), || {
        let e = ns
            .kubectl(&[
                "get",
                "events",
                "--field-selector",
                "involvedObject.name=log-shipper,reason=FailedCreate",
                "-o",
                "json",
            ])
            .json();
        !e["items"].as_array().unwrap().is_empty()
    });
    let j = settled_report(&ns, "1 pod Ready of 3", |s| {
        s["desiredNumberScheduled"] == 3
            && s["currentNumberScheduled"] == 1
            && s["numberReady"] == 1
    });
    assert_eq!(j["counts"]["desired"], 3, "{j}");
    assert_eq!(j["counts"]["current"], 1, "{j}");
    assert_eq!(j["counts"]["ready"], 1, "{j}");
    let mut missing = Vec::new();
    for n in &nodes.0 {
        let r = row(&j, n);
        assert_ne!(r["verdict"], "Excluded", "{r}");
        assert_eq!(r["shouldRun"], true, "{r}");
        if r["pod"].is_null() {
            assert_eq!(r["verdict"], "Missing", "{r}");
            assert_eq!(
                r["cause"],
                "pod creation fails: exceeded quota pod-cap (pods: requested 1, used 1, limited 1)",
                "{r}"
            );
            missing.push(n.clone());
        } else {
            assert_eq!(r["verdict"], "Running", "{r}");
        }
    }
    assert_eq!(missing.len(), 2, "{j}");
    let errors: Vec<&Value> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{j}");
    assert_eq!(errors[0]["id"], "ds.pod.create_failed");
    assert_eq!(errors[0]["health"], "Stalled");
    let msg = errors[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("exceeded quota pod-cap (pods: requested 1, used 1, limited 1)")
            && missing.iter().all(|n| msg.contains(n.as_str())),
        "{msg}"
    );
    assert_eq!(j["verdict"]["health"], "Stalled", "{j}");
    assert!(
        !j["summary"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("rollout")),
        "one revision: no rollout: {j}"
    );
    assert!(
        !j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "ds.node.excluded"
                && nodes
                    .0
                    .iter()
                    .any(|n| f["message"].as_str().unwrap().contains(n.as_str()))),
        "the case's nodes are not excluded: {j}"
    );
    ns.sts(&["status", "ds/log-shipper", "--fail-on", "error"])
        .expect_code(1);
    common::consistency::assert_consistent(&ns);

    // step 3: raise the quota to 5 pods; 3/3/3
    ns.kubectl(&[
        "patch",
        "resourcequota",
        "pod-cap",
        "--type=merge",
        "-p",
        r#"{"spec":{"hard":{"pods":"5"}}}"#,
    ])
    .expect_code(0);
    let j = settled_report(&ns, "3/3/3", |s| {
        s["desiredNumberScheduled"] == 3
            && s["currentNumberScheduled"] == 3
            && s["numberReady"] == 3
    });
    assert_eq!(
        (
            j["counts"]["desired"].clone(),
            j["counts"]["current"].clone(),
            j["counts"]["ready"].clone()
        ),
        (json!(3), json!(3), json!(3)),
        "{j}"
    );
    for n in &nodes.0 {
        assert_eq!(row(&j, n)["verdict"], "Running", "{j}");
    }
    assert!(
        !j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "ds.pod.create_failed"
                || f["message"].as_str().unwrap().contains("exceeded quota")),
        "{j}"
    );
    assert_eq!(j["verdict"]["health"], "Healthy", "{j}");
    ns.sts(&["status", "ds/log-shipper", "--fail-on", "warning"])
        .expect_code(0);
    common::consistency::assert_consistent(&ns);
}
