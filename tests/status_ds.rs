//! `kubectl sts status ds/NAME` against the sandbox, on the test's own kwok
//! nodes (each tainted `kubectl-sts.test/<ns>:NoSchedule` and labelled
//! `kubectl-sts.test/ns=<ns>`; every DaemonSet here selects and tolerates
//! exactly that, so nothing lands on shared nodes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Ns, kubectl, kubectl_stdin, wait_until};
use serde_json::{Value, json};

/// Runs the plugin in namespace `ns`.
fn sts_in(ns: &str, args: &[&str], envs: &[(&str, &str)]) -> common::Run {
    let mut a: Vec<&str> = args.to_vec();
    a.extend_from_slice(&["-n", ns]);
    common::sts_with(&a, envs)
}

struct Nodes(Vec<String>);
impl Drop for Nodes {
    fn drop(&mut self) {
        let mut a = vec!["delete", "node", "--wait=false", "--ignore-not-found"];
        a.extend(self.0.iter().map(String::as_str));
        let _ = kubectl(&a);
    }
}

/// Creates kwok nodes `<ns>-<suffix>` with extra labels and taints; waits until Ready.
fn make_nodes(ns: &Ns, specs: &[(&str, Value, Value)]) -> Nodes {
    let mut items = Vec::new();
    let mut names = Vec::new();
    for (suffix, labels, taints) in specs {
        let name = format!("{}-{suffix}", ns.name);
        let mut l =
            json!({"kubernetes.io/hostname": name, "type": "kwok", "kubectl-sts.test/ns": ns.name});
        for (k, v) in labels.as_object().unwrap() {
            l[k] = v.clone();
        }
        let mut t =
            vec![json!({"key": format!("kubectl-sts.test/{}", ns.name), "effect": "NoSchedule"})];
        t.extend(taints.as_array().unwrap().iter().cloned());
        let res = json!({"cpu": "32", "memory": "256Gi", "pods": "110"});
        items.push(json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": l, "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"}},
            "spec": {"taints": t}, "status": {"capacity": res, "allocatable": res}}));
        names.push(name);
    }
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

/// A DaemonSet pinned to the test's nodes.
fn ds_yaml(
    ns: &Ns,
    name: &str,
    image: &str,
    extra_selector: Value,
    extra_tolerations: Value,
) -> String {
    let mut sel = json!({"kubectl-sts.test/ns": ns.name});
    for (k, v) in extra_selector.as_object().unwrap() {
        sel[k] = v.clone();
    }
    let mut tols = vec![
        json!({"key": format!("kubectl-sts.test/{}", ns.name), "operator": "Exists", "effect": "NoSchedule"}),
    ];
    tols.extend(extra_tolerations.as_array().unwrap().iter().cloned());
    json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"nodeSelector": sel, "tolerations": tols, "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "main", "image": image}]}}}})
    .to_string()
}

/// Waits until the DaemonSet is settled (observedGeneration == generation,
/// status identical on two reads) and `check(status)` holds.
fn wait_ds(ns: &Ns, name: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    let mut out = Value::Null;
    wait_until(
        &format!("daemonset {name}: {what}"),
        Duration::from_secs(240),
        || {
            let d = ns.get("daemonset", name);
            let ok = d["status"]["observedGeneration"] == d["metadata"]["generation"]
                && d["status"] == last
                && check(&d["status"]);
            last = d["status"].clone();
            out = d;
            ok
        },
    );
    out
}

fn row<'a>(j: &'a Value, node: &str) -> &'a Value {
    j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == node)
        .unwrap_or_else(|| panic!("no row for {node} in {j}"))
}

/// The findings with this id in a JSON report.
fn findings<'a>(j: &'a Value, id: &str) -> Vec<&'a Value> {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

/// The fix of the finding `id` about `object`.
fn fix_of(j: &Value, id: &str, object: &str) -> String {
    findings(j, id)
        .into_iter()
        .find(|f| f["object"] == object)
        .and_then(|f| f["fix"].as_str())
        .unwrap_or_else(|| panic!("no fix for {id} on {object} in {j}"))
        .to_string()
}

/// Runs a printed fix exactly as printed, through a shell, as admin.
fn run_fix(fix: &str) {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(fix)
        .env("KUBECONFIG", &common::env().kubeconfig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the printed fix failed: {fix}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn table_line<'a>(out: &'a str, node: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(&format!("{node} ")))
        .unwrap_or_else(|| panic!("no line for {node}:\n{out}"))
}

#[test]
fn taints_selectors_and_node_changes_explained_per_node() {
    let ns = Ns::new("ds-placement");
    let cp = format!("{}-cp", ns.name);
    let w1 = format!("{}-w1", ns.name);
    let w2 = format!("{}-w2", ns.name);
    let _nodes = make_nodes(
        &ns,
        &[
            (
                "cp",
                json!({"node-role.kubernetes.io/control-plane": ""}),
                json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
            ),
            ("w1", json!({"disk": "ssd"}), json!([])),
            ("w2", json!({}), json!([])),
        ],
    );
    ns.apply(&ds_yaml(
        &ns,
        "log-collector",
        "registry.k8s.io/pause:3.10",
        json!({}),
        json!([]),
    ));
    ns.apply(&ds_yaml(&ns, "node-exporter", "registry.k8s.io/pause:3.10", json!({}),
        json!([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}])));
    ns.apply(&ds_yaml(
        &ns,
        "node-monitor",
        "registry.k8s.io/pause:3.10",
        json!({"disk": "ssd"}),
        json!([]),
    ));
    wait_ds(&ns, "log-collector", "2 ready", |s| {
        s["desiredNumberScheduled"] == 2 && s["numberReady"] == 2
    });
    wait_ds(&ns, "node-exporter", "3 ready", |s| {
        s["desiredNumberScheduled"] == 3 && s["numberReady"] == 3
    });
    wait_ds(&ns, "node-monitor", "1 ready", |s| {
        s["desiredNumberScheduled"] == 1 && s["numberReady"] == 1
    });

    // log-collector: missing from the control-plane-like node, intended
    let r = sts_in(&ns.name, &["status", "ds/log-collector"], &[]);
    r.expect_code(0);
    let l = table_line(&r.stdout, &cp);
    assert!(
        l.contains("no")
            && l.contains("Excluded")
            && l.contains("taint node-role.kubernetes.io/control-plane:NoSchedule not tolerated"),
        "{l}"
    );
    for w in [&w1, &w2] {
        let l = table_line(&r.stdout, w);
        assert!(
            l.contains("yes") && l.contains("Running") && l.contains("log-collector-"),
            "{l}"
        );
    }
    assert!(
        r.stdout
            .contains("− 1 tainted node-role.kubernetes.io/control-plane:NoSchedule"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("DESIRED 2 = "), "{}", r.stdout);
    assert!(
        r.stdout.contains("(intended: control-plane node)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("No problems found."), "{}", r.stdout);
    let j = sts_in(&ns.name, &["status", "ds/log-collector", "-o", "json"], &[])
        .expect_code(0)
        .json();
    assert_eq!(j["apiVersion"], "kubectl-sts/v1");
    assert_eq!(j["kind"], "DaemonSetStatus");
    assert_eq!(j["counts"]["desired"], 2);
    assert_eq!(j["counts"]["current"], 2);
    assert_eq!(row(&j, &cp)["shouldRun"], false);
    assert_eq!(row(&j, &cp)["shouldContinueRunning"], true);
    assert_eq!(
        row(&j, &cp)["blockers"][0],
        json!({"kind": "taint", "key": "node-role.kubernetes.io/control-plane", "value": "", "effect": "NoSchedule"})
    );
    assert_eq!(row(&j, &w1)["verdict"], "Running");

    // node-exporter: present on the control-plane-like node thanks to its toleration
    let j = sts_in(
        &ns.name,
        &["status", "ds/node-exporter", "-o", "json", "--node", &cp],
        &[],
    )
    .expect_code(0)
    .json();
    assert_eq!(j["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(row(&j, &cp)["shouldRun"], true);
    assert_eq!(row(&j, &cp)["verdict"], "Running");
    assert!(
        row(&j, &cp)["pod"]["name"]
            .as_str()
            .unwrap()
            .starts_with("node-exporter-")
    );

    // node-monitor: only on disk=ssd; w2 names the failing selector and the
    // fix; the tainted control-plane node lists both blockers and is in no
    // label fix (a label alone would not admit it)
    let r = sts_in(&ns.name, &["status", "ds/node-monitor"], &[])
        .expect_code(0)
        .stdout
        .clone();
    assert!(table_line(&r, &w1).contains("Running"), "{r}");
    assert!(
        table_line(&r, &w2).contains("nodeSelector disk=ssd: label missing"),
        "{r}"
    );
    assert!(
        table_line(&r, &cp).contains("nodeSelector disk=ssd: label missing; taint node-role.kubernetes.io/control-plane:NoSchedule not tolerated"),
        "{r}"
    );
    let j = sts_in(&ns.name, &["status", "ds/node-monitor", "-o", "json"], &[])
        .expect_code(0)
        .json();
    assert_eq!(
        row(&j, &cp)["blockers"],
        json!([
            {"kind": "nodeSelector", "key": "disk", "want": "ssd", "have": null},
            {"kind": "taint", "key": "node-role.kubernetes.io/control-plane", "value": "", "effect": "NoSchedule"}
        ])
    );
    let fixes: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["fix"].as_str())
        .collect();
    assert!(!fixes.iter().any(|f| f.contains(&cp)), "{fixes:?}");
    let fix = fix_of(&j, "ds.node.excluded", &format!("node/{w2}"));
    assert_eq!(fix, format!("kubectl label node {w2} disk=ssd --overwrite"));
    run_fix(&fix);
    wait_ds(&ns, "node-monitor", "2 ready after labelling", |s| {
        s["desiredNumberScheduled"] == 2 && s["numberReady"] == 2
    });
    let j = sts_in(&ns.name, &["status", "ds/node-monitor", "-o", "json"], &[])
        .expect_code(0)
        .json();
    assert_eq!(row(&j, &w2)["verdict"], "Running");
    assert_eq!(row(&j, &w2)["shouldRun"], true);
    assert!(
        !findings(&j, "ds.node.excluded")
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains(&w2)),
        "the label fix removed the finding: {j}"
    );
    kubectl(&["label", "node", &w2, "disk-"]).expect_code(0);
    wait_ds(&ns, "node-monitor", "back to 1 after unlabelling", |s| {
        s["desiredNumberScheduled"] == 1
            && s["currentNumberScheduled"] == 1
            && s["numberMisscheduled"] == 0
    });
    common::wait_until(
        "node-monitor pod gone from w2",
        Duration::from_secs(60),
        || {
            let v = ns
                .kubectl(&["get", "pods", "-l", "app=node-monitor", "-o", "json"])
                .json();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["spec"]["nodeName"] != w2.as_str())
        },
    );
    let j = sts_in(&ns.name, &["status", "ds/node-monitor", "-o", "json"], &[])
        .expect_code(0)
        .json();
    assert_eq!(row(&j, &w2)["verdict"], "Excluded");
    assert!(row(&j, &w2)["pod"].is_null());

    // NoExecute taint on w2: log-collector's pod is removed, the row says why
    kubectl(&["taint", "node", &w2, "fz/evict=yes:NoExecute"]).expect_code(0);
    wait_ds(&ns, "log-collector", "1 desired after NoExecute", |s| {
        s["desiredNumberScheduled"] == 1
            && s["currentNumberScheduled"] == 1
            && s["numberMisscheduled"] == 0
    });
    common::wait_until(
        "log-collector pod gone from w2",
        Duration::from_secs(60),
        || {
            let v = ns
                .kubectl(&["get", "pods", "-l", "app=log-collector", "-o", "json"])
                .json();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["spec"]["nodeName"] != w2.as_str())
        },
    );
    let j = sts_in(&ns.name, &["status", "ds/log-collector", "-o", "json"], &[])
        .expect_code(0)
        .json();
    let r2 = row(&j, &w2);
    assert_eq!(r2["shouldRun"], false);
    assert_eq!(r2["shouldContinueRunning"], false);
    assert_eq!(r2["blockers"][0]["key"], "fz/evict");
    assert_eq!(r2["blockers"][0]["effect"], "NoExecute");
    let fix = fix_of(&j, "ds.node.excluded", &format!("node/{w2}"));
    assert_eq!(
        fix,
        format!(
            "kubectl patch daemonset log-collector --type=json -p '[{{\"op\":\"add\",\"path\":\"/spec/template/spec/tolerations/-\",\"value\":{{\"effect\":\"NoExecute\",\"key\":\"fz/evict\",\"operator\":\"Equal\",\"value\":\"yes\"}}}}]' -n {}",
            ns.name
        )
    );
    run_fix(&fix);
    wait_ds(
        &ns,
        "log-collector",
        "2 ready and updated after the toleration",
        |s| {
            s["desiredNumberScheduled"] == 2
                && s["numberReady"] == 2
                && s["updatedNumberScheduled"] == 2
        },
    );
    let j = sts_in(&ns.name, &["status", "ds/log-collector", "-o", "json"], &[])
        .expect_code(0)
        .json();
    assert_eq!(row(&j, &w2)["verdict"], "Running", "{j}");
    assert!(
        !findings(&j, "ds.node.excluded")
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains(&w2)),
        "the toleration fix removed the finding: {j}"
    );

    // a NoSchedule taint keeps node-exporter's pod but counts it misscheduled
    kubectl(&["taint", "node", &w1, "fz/drain=now:NoSchedule"]).expect_code(0);
    // (the 1.36 controller may not re-sync on a taint-only node change, so
    // its numberMisscheduled can lag; the verdict comes from the node itself)
    wait_until("w1 tainted", Duration::from_secs(30), || {
        kubectl(&["get", "node", &w1, "-o", "json"]).json()["spec"]["taints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["key"] == "fz/drain")
    });
    let j = sts_in(
        &ns.name,
        &[
            "status",
            "ds/node-exporter",
            "-o",
            "json",
            "--only-problems",
        ],
        &[],
    )
    .expect_code(0)
    .json();
    assert_eq!(
        j["nodes"].as_array().unwrap().len(),
        1,
        "only w1 has a problem (w2 excluded, pod gone): {j}"
    );
    let m = row(&j, &w1);
    assert_eq!(m["verdict"], "Misscheduled");
    assert!(
        m["cause"]
            .as_str()
            .unwrap()
            .contains("kept because no NoExecute taint evicts it"),
        "{m}"
    );
    let r = sts_in(
        &ns.name,
        &["status", "ds/node-exporter", "--fail-on", "warning"],
        &[],
    );
    r.expect_code(1);
    assert!(
        r.stdout.contains(&format!(
            "{w1}: taint fz/drain=now:NoSchedule not tolerated"
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.lines().any(|l| l.starts_with("MISSCHEDULED ")),
        "{}",
        r.stdout
    );
    // the fix deletes the kept pod; the controller does not recreate it there
    let pod = m["pod"]["name"].as_str().unwrap();
    let fix = fix_of(&j, "ds.pod.misscheduled", &format!("pod/{pod}"));
    assert_eq!(fix, format!("kubectl delete pod {pod} -n {}", ns.name));
    run_fix(&fix);
    wait_until(
        "no node-exporter pod on w1",
        Duration::from_secs(60),
        || {
            let v = ns
                .kubectl(&["get", "pods", "-l", "app=node-exporter", "-o", "json"])
                .json();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["spec"]["nodeName"] != w1.as_str())
        },
    );
    let j = sts_in(&ns.name, &["status", "ds/node-exporter", "-o", "json"], &[])
        .expect_code(0)
        .json();
    assert!(findings(&j, "ds.pod.misscheduled").is_empty(), "{j}");
    assert_eq!(row(&j, &w1)["verdict"], "Excluded");
    common::consistency::assert_consistent(&ns);
}

#[test]
fn unready_pods_are_diagnosed_and_a_stuck_rollout_names_its_budget() {
    let ns = Ns::new("ds-unready");
    let names: Vec<String> = (0..3).map(|i| format!("{}-n{i}", ns.name)).collect();
    let _nodes = make_nodes(
        &ns,
        &[
            ("n0", json!({}), json!([])),
            ("n1", json!({}), json!([])),
            ("n2", json!({}), json!([])),
        ],
    );
    ns.apply(&ds_yaml(
        &ns,
        "crashy",
        "example.invalid/crash-loop:1",
        json!({}),
        json!([]),
    ));
    ns.apply(&ds_yaml(
        &ns,
        "pully",
        "example.invalid/image-pull-backoff:1",
        json!({}),
        json!([]),
    ));
    ns.apply(&ds_yaml(
        &ns,
        "agent",
        "registry.k8s.io/pause:3.10",
        json!({}),
        json!([]),
    ));
    wait_ds(&ns, "agent", "3 ready", |s| {
        s["numberReady"] == 3 && s["updatedNumberScheduled"] == 3
    });
    wait_until(
        "crashy pods in CrashLoopBackOff",
        Duration::from_secs(90),
        || {
            let j = sts_in(&ns.name, &["status", "ds/crashy", "-o", "json"], &[]).json();
            j["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["node"].as_str().unwrap().starts_with(&ns.name))
                .all(|r| r["pod"]["status"] == "CrashLoopBackOff")
        },
    );
    let j = sts_in(&ns.name, &["status", "ds/crashy", "-o", "json"], &[])
        .expect_code(0)
        .json();
    for n in &names {
        let r = row(&j, n);
        assert_eq!(r["verdict"], "NotReady");
        assert!(
            r["cause"]
                .as_str()
                .unwrap()
                .contains("container main CrashLoopBackOff after 5 restarts"),
            "{r}"
        );
    }
    let r = sts_in(
        &ns.name,
        &["status", "ds/crashy", "--fail-on", "error"],
        &[],
    );
    r.expect_code(1);
    assert!(
        r.stdout.contains("READY 0: 3 pods not Ready"),
        "{}",
        r.stdout
    );
    // one finding for the three pods with the same cause, naming each
    let nr = findings(&j, "ds.pod.not_ready");
    assert_eq!(nr.len(), 1, "{j}");
    assert_eq!(nr[0]["severity"], "error");
    let msg = nr[0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("not Ready: container main CrashLoopBackOff; see: kubectl logs crashy-"),
        "{msg}"
    );
    let objects = nr[0]["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 3, "{j}");
    assert_eq!(nr[0]["object"], objects[0]);
    for n in &names {
        let pod = row(&j, n)["pod"]["name"].as_str().unwrap();
        assert!(objects.contains(&json!(format!("pod/{pod}"))), "{j}");
        assert!(msg.contains(n.as_str()), "{msg}");
    }
    // the first revision crashing: Degraded, and no rollback offered
    assert_eq!(j["verdict"]["health"], "Degraded");
    assert!(nr[0]["fix"].is_null(), "{j}");

    wait_until(
        "pully pods in ImagePullBackOff",
        Duration::from_secs(90),
        || {
            let j = sts_in(&ns.name, &["status", "ds/pully", "-o", "json"], &[]).json();
            j["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["node"].as_str().unwrap().starts_with(&ns.name))
                .all(|r| r["pod"]["status"] == "ImagePullBackOff")
        },
    );
    let j = sts_in(
        &ns.name,
        &["status", "ds/pully", "-o", "json", "--node", &names[1]],
        &[],
    )
    .expect_code(0)
    .json();
    assert!(
        row(&j, &names[1])["cause"].as_str().unwrap().contains(
            "ImagePullBackOff: image example.invalid/image-pull-backoff:1 cannot be pulled"
        ),
        "{j}"
    );

    // rollout to an image that never becomes Ready: stuck on maxUnavailable=1
    let before = ns.get("daemonset", "agent");
    ns.kubectl(&[
        "set",
        "image",
        "ds/agent",
        "main=example.invalid/not-ready:1",
    ])
    .expect_code(0);
    wait_ds(&ns, "agent", "1 updated, 2 ready", |s| {
        s["updatedNumberScheduled"] == 1
            && s["numberReady"] == 2
            && s["observedGeneration"].as_i64() > before["metadata"]["generation"].as_i64()
    });
    let j = sts_in(&ns.name, &["status", "ds/agent", "-o", "json"], &[])
        .expect_code(0)
        .json();
    assert_eq!(j["rollout"]["maxUnavailable"], 1);
    assert_eq!(j["rollout"]["updated"], 1);
    assert_eq!(j["rollout"]["oldNodes"].as_array().unwrap().len(), 2, "{j}");
    let stuck = j["rollout"]["stuck"].as_str().unwrap();
    let new_node = j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pod"]["updated"] == true)
        .unwrap()["node"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        stuck,
        format!(
            "1/3 updated: 2 node(s) wait because 1 unavailable pod(s) ({new_node}) use the whole maxUnavailable=1 budget"
        )
    );
    assert!(
        row(&j, &new_node)["cause"]
            .as_str()
            .unwrap()
            .contains("readiness failing"),
        "{j}"
    );
    let hash = j["rollout"]["currentHash"].as_str().unwrap();
    assert_eq!(row(&j, &new_node)["pod"]["revision"], hash);
    let t = sts_in(&ns.name, &["status", "ds/agent"], &[]);
    t.expect_code(0);
    assert!(t.stdout.contains("(old)"), "{}", t.stdout);
    assert!(
        t.stdout.contains(
            "Rollout:    waiting: 1 of 3 nodes updated, unavailable pods use the whole maxUnavailable=1 budget"
        ),
        "{}",
        t.stdout
    );
    sts_in(
        &ns.name,
        &["status", "ds/agent", "--fail-on", "warning"],
        &[],
    )
    .expect_code(1);

    // the fleet line of each DaemonSet agrees with its detailed view
    common::consistency::assert_consistent(&ns);

    // --node on a node that is fine keeps the DaemonSet's own finding, the
    // verdict and the exit code
    let old = j["rollout"]["oldNodes"][0].as_str().unwrap().to_string();
    let jn = sts_in(
        &ns.name,
        &["status", "ds/agent", "-o", "json", "--node", &old],
        &[],
    )
    .expect_code(0)
    .json();
    assert_eq!(jn["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(findings(&jn, "ds.rollout.stuck").len(), 1, "{jn}");
    assert_eq!(jn["verdict"], j["verdict"]);
    let tn = sts_in(
        &ns.name,
        &["status", "ds/agent", "--node", &old, "--fail-on", "warning"],
        &[],
    );
    tn.expect_code(1);
    assert!(!tn.stdout.contains("No problems found."), "{}", tn.stdout);
    // an unknown node is an error, as in kubectl
    let bad = sts_in(&ns.name, &["status", "ds/agent", "--node", "nope"], &[]);
    bad.expect_code(3);
    assert_eq!(
        bad.stderr.trim_end(),
        "error: nodes \"nope\" not found\nhint: list them with: kubectl get nodes"
    );
    assert!(bad.stdout.is_empty(), "{}", bad.stdout);

    // the stuck rollout's fix rolls back; the finding is gone
    let fix = fix_of(&j, "ds.rollout.stuck", "daemonset/agent");
    assert_eq!(
        fix,
        format!("kubectl rollout undo daemonset/agent -n {}", ns.name)
    );
    run_fix(&fix);
    wait_ds(
        &ns,
        "agent",
        "3 ready and updated after the rollback",
        |s| s["numberReady"] == 3 && s["updatedNumberScheduled"] == 3 && s["numberAvailable"] == 3,
    );
    let j = sts_in(
        &ns.name,
        &["status", "ds/agent", "-o", "json", "--fail-on", "warning"],
        &[],
    )
    .expect_code(0)
    .json();
    assert!(findings(&j, "ds.rollout.stuck").is_empty(), "{j}");
    assert!(j["rollout"]["stuck"].is_null(), "{j}");
    assert_eq!(j["verdict"]["health"], "Healthy", "{j}");
}

#[test]
fn namespace_only_rbac_reports_from_pods_and_says_what_was_not_checked() {
    let ns = Ns::new("ds-rbac");
    let _nodes = make_nodes(&ns, &[("n0", json!({}), json!([]))]);
    ns.apply(&ds_yaml(
        &ns,
        "agent",
        "registry.k8s.io/pause:3.10",
        json!({}),
        json!([]),
    ));
    ns.apply(&ds_yaml(
        &ns,
        "sick",
        "example.invalid/not-ready:1",
        json!({}),
        json!([]),
    ));
    wait_ds(&ns, "agent", "1 ready", |s| s["numberReady"] == 1);
    wait_ds(&ns, "sick", "1 pod, not ready", |s| {
        s["currentNumberScheduled"] == 1 && s["numberReady"] == 0
    });
    // the DaemonSet, its pods and revisions; no nodes, no events
    ns.kubectl(&[
        "create",
        "role",
        "ds-reader",
        "--verb=get,list,watch",
        "--resource=daemonsets.apps,pods,controllerrevisions.apps",
    ])
    .expect_code(0);
    ns.kubectl(&[
        "create",
        "rolebinding",
        "viewer",
        "--role=ds-reader",
        "--user=sts-viewer",
    ])
    .expect_code(0);
    let viewer = common::env()
        .viewer_kubeconfig
        .to_str()
        .unwrap()
        .to_string();
    wait_until("viewer can list pods", Duration::from_secs(30), || {
        kubectl(&["--kubeconfig", &viewer, "get", "pods", "-n", &ns.name]).code == 0
    });
    let r = sts_in(
        &ns.name,
        &["status", "ds/agent", "-o", "json"],
        &[("KUBECONFIG", &viewer)],
    );
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["nodesChecked"], false);
    let row0 = row(&j, &format!("{}-n0", ns.name));
    assert!(row0["shouldRun"].is_null());
    assert_eq!(row0["pod"]["ready"], true);
    assert!(
        j["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("was not checked")),
        "{j}"
    );
    let t = sts_in(
        &ns.name,
        &["status", "ds/agent"],
        &[("KUBECONFIG", &viewer)],
    );
    t.expect_code(0);
    assert!(
        t.stdout.contains("note: nodes could not be read"),
        "{}",
        t.stdout
    );
    // events only enrich the view: a 403 on them is a note, not exit 3
    let s = sts_in(
        &ns.name,
        &["status", "ds/sick", "-o", "json"],
        &[("KUBECONFIG", &viewer)],
    );
    s.expect_code(0);
    let j = s.json();
    assert!(
        j["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("not allowed to list events: ")),
        "{j}"
    );
    assert_eq!(
        row(&j, &format!("{}-n0", ns.name))["verdict"],
        "NotReady",
        "{j}"
    );
}

/// `--watch`: one LIST per kind, then only WATCH requests; a node label
/// change re-renders with the DaemonSet on the newly eligible node.
#[test]
fn watch_lists_once_then_rerenders_from_events() {
    let ns = Ns::new("ds-watch");
    let nodes = make_nodes(
        &ns,
        &[
            ("w0", json!({"role": "edge"}), json!([])),
            ("w1", json!({}), json!([])),
        ],
    );
    ns.apply(&ds_yaml(
        &ns,
        "agent",
        "registry.k8s.io/pause:3.10",
        json!({"role": "edge"}),
        json!([]),
    ));
    wait_ds(&ns, "agent", "1 ready", |s| s["numberReady"] == 1);
    let child = ns.spawn_watch(&["status", "ds/agent", "--watch", "-o", "json"], "12s");
    let audit = || common::audit_events(&ns.name);
    wait_until("the plugin's pod watch", Duration::from_secs(60), || {
        audit().iter().any(|e| {
            e["verb"] == "watch"
                && e["objectRef"]["resource"] == "pods"
                && e["objectRef"]["namespace"] == ns.name.as_str()
        })
    });
    kubectl(&["label", "node", &nodes.0[1], "role=edge"]).expect_code(0);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        docs.len() >= 2,
        "expected a re-render after the label change:\n{stdout}"
    );
    let last = docs.last().unwrap();
    assert_eq!(row(last, &nodes.0[1])["shouldRun"], true, "{last}");

    let mut lists = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    let mut verbs = std::collections::BTreeSet::new();
    for e in audit() {
        verbs.insert(e["verb"].as_str().unwrap_or("").to_string());
        if e["verb"] == "list" {
            lists
                .entry(
                    e["objectRef"]["resource"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                )
                .or_default()
                .insert(e["auditID"].as_str().unwrap_or("").to_string());
        }
    }
    for kind in ["daemonsets", "pods", "controllerrevisions", "events"] {
        assert_eq!(
            lists.get(kind).map(|s| s.len()),
            Some(1),
            "{kind}: {lists:?}"
        );
    }
    assert_eq!(
        verbs,
        ["list", "watch"].iter().map(|s| s.to_string()).collect(),
        "only LIST and WATCH in the namespace"
    );
}

/// Checks `DESIRED d = N nodes − a … − b …`: N is the number of existing
/// nodes, N minus the excluded is what the nodes say, and that is DESIRED
/// unless the line says the controller lags. Returns what the nodes say.
fn check_desired_sum(j: &Value) -> i64 {
    let line = j["summary"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|l| l.starts_with("DESIRED "))
        .unwrap_or_else(|| panic!("no DESIRED line: {j}"));
    let num = |s: &str| -> i64 {
        s.trim()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("not a number at {s:?} in {line}"))
    };
    let (head, rest) = line.split_once(" = ").unwrap();
    let desired = num(head.strip_prefix("DESIRED ").unwrap());
    let (arith, lag) = match rest.split_once(" (the nodes say ") {
        Some((a, l)) => (a, Some(num(l.split(';').next().unwrap()))),
        None => (rest, None),
    };
    let mut parts = arith.split(" − ");
    let total = num(parts.next().unwrap());
    let excluded: i64 = parts.map(num).sum();
    let rows = j["nodes"].as_array().unwrap();
    let existing = rows.iter().filter(|r| r["nodeExists"] == true).count() as i64;
    let eligible = rows.iter().filter(|r| r["shouldRun"] == true).count() as i64;
    assert_eq!(total, existing, "N counts the nodes that exist: {line}");
    assert_eq!(
        total - excluded,
        eligible,
        "N − excluded = eligible: {line}"
    );
    match lag {
        Some(p) => assert_eq!(p, eligible, "{line}"),
        None => assert_eq!(desired, eligible, "{line}"),
    }
    eligible
}

/// A daemon pod whose kwok node is deleted: the node is in neither term
/// of DESIRED, the pod is counted nowhere and left to the pod garbage
/// collector, and the sums hold before and after.
#[test]
fn a_pod_on_a_deleted_node_is_not_counted_and_the_sums_hold() {
    let ns = Ns::new("ds-node-gone");
    let nodes = make_nodes(
        &ns,
        &[("n0", json!({}), json!([])), ("n1", json!({}), json!([]))],
    );
    let (n0, n1) = (nodes.0[0].clone(), nodes.0[1].clone());
    ns.apply(&ds_yaml(
        &ns,
        "agent",
        "registry.k8s.io/pause:3.10",
        json!({}),
        json!([]),
    ));
    wait_ds(&ns, "agent", "2 ready", |s| s["numberReady"] == 2);
    let j = sts_in(&ns.name, &["status", "ds/agent", "-o", "json"], &[])
        .expect_code(0)
        .json();
    check_desired_sum(&j);
    let pod = row(&j, &n1)["pod"]["name"].as_str().unwrap().to_string();

    kubectl(&["delete", "node", &n1, "--wait=false"]).expect_code(0);
    wait_until("node n1 gone", Duration::from_secs(30), || {
        kubectl(&["get", "node", &n1]).code != 0
    });
    let j = sts_in(&ns.name, &["status", "ds/agent", "-o", "json"], &[])
        .expect_code(0)
        .json();
    let r = row(&j, &n1);
    assert_eq!(r["verdict"], "NodeGone", "{j}");
    assert_eq!(r["nodeExists"], false);
    assert_eq!(r["pod"]["name"], pod.as_str());
    let f = findings(&j, "ds.pod.node_gone");
    assert_eq!(f.len(), 1, "{j}");
    assert_eq!(f[0]["object"], format!("pod/{pod}"));
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("the pod garbage collector deletes it (about 40 s after the node went away); the DaemonSet controller does not count it"),
        "{j}"
    );
    let summary: Vec<&str> = j["summary"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        summary.iter().any(
            |l| l.starts_with("NOT COUNTED: 1 pod bound to deleted nodes")
                && l.contains(&format!("{pod} on {n1}"))
        ),
        "{summary:?}"
    );
    assert!(
        !summary.iter().any(|l| l.starts_with("MISSCHEDULED")),
        "{summary:?}"
    );
    assert_eq!(j["verdict"]["health"], "Progressing");
    common::consistency::assert_consistent(&ns);
    let eligible = check_desired_sum(&j);
    assert_eq!(row(&j, &n0)["shouldRun"], true);
    assert!(eligible >= 1);

    // the pod garbage collector removes the pod; the controller then counts 1
    wait_until(
        "the pod on the deleted node removed",
        Duration::from_secs(180),
        || ns.kubectl(&["get", "pod", &pod]).code != 0,
    );
    wait_ds(&ns, "agent", "1 desired", |s| {
        s["desiredNumberScheduled"] == 1 && s["numberReady"] == 1
    });
    let j = sts_in(&ns.name, &["status", "ds/agent", "-o", "json"], &[])
        .expect_code(0)
        .json();
    assert!(
        !j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["node"] == n1.as_str()),
        "{j}"
    );
    assert!(findings(&j, "ds.pod.node_gone").is_empty());
    assert_eq!(check_desired_sum(&j), 1);
    assert!(
        j["summary"][0]
            .as_str()
            .unwrap()
            .starts_with("DESIRED 1 = "),
        "{j}"
    );
    assert_eq!(j["verdict"]["health"], "Healthy");
}

/// The current context of the admin kubeconfig.
fn current_context() -> String {
    kubectl(&["config", "current-context"])
        .expect_code(0)
        .stdout
        .trim()
        .to_string()
}

/// The quota fix and the OnDelete fix, printed with `--context` and run as
/// printed, remove their findings.
#[test]
fn quota_and_ondelete_fixes_run_as_printed_remove_their_findings() {
    let ns = Ns::new("ds-fixes");
    let capped = Ns::new("ds-fixes-quota");
    let ctx = current_context();
    let _nodes = make_nodes(
        &ns,
        &[("n0", json!({}), json!([])), ("n1", json!({}), json!([]))],
    );
    // a quota of 1 pod in the second namespace; its DaemonSet wants 2
    capped.apply(
        r#"{"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "pod-cap"}, "spec": {"hard": {"pods": "1"}}}"#,
    );
    wait_until("quota status", Duration::from_secs(60), || {
        capped.get("resourcequota", "pod-cap")["status"]["hard"]["pods"] == "1"
    });
    capped.apply(&ds_yaml(
        &ns,
        "capped",
        "registry.k8s.io/pause:3.10",
        json!({}),
        json!([]),
    ));
    wait_until("a FailedCreate on capped", Duration::from_secs(120), || {
        let e = capped
            .kubectl(&[
                "get",
                "events",
                "--field-selector",
                "reason=FailedCreate",
                "-o",
                "json",
            ])
            .json();
        !e["items"].as_array().unwrap().is_empty()
    });
    wait_ds(&capped, "capped", "1 of 2", |s| {
        s["desiredNumberScheduled"] == 2 && s["currentNumberScheduled"] == 1
    });
    let j = sts_in(
        &capped.name,
        &["status", "ds/capped", "-o", "json", "--context", &ctx],
        &[],
    )
    .expect_code(0)
    .json();
    assert_eq!(j["verdict"]["health"], "Stalled", "{j}");
    common::consistency::assert_consistent(&capped);
    let fix = fix_of(&j, "ds.pod.create_failed", "daemonset/capped");
    assert_eq!(
        fix,
        format!(
            "kubectl patch resourcequota pod-cap --type=merge -p '{{\"spec\":{{\"hard\":{{\"pods\":\"2\"}}}}}}' -n {} --context {ctx}",
            capped.name
        )
    );
    run_fix(&fix);
    wait_ds(&capped, "capped", "2 ready", |s| {
        s["desiredNumberScheduled"] == 2 && s["numberReady"] == 2
    });
    let j = sts_in(
        &capped.name,
        &["status", "ds/capped", "-o", "json", "--fail-on", "warning"],
        &[],
    )
    .expect_code(0)
    .json();
    assert!(findings(&j, "ds.pod.create_failed").is_empty(), "{j}");
    assert_eq!(j["verdict"]["health"], "Healthy", "{j}");

    // OnDelete: the old pods wait for a person; the printed delete replaces them
    let mut od: Value = serde_json::from_str(&ds_yaml(
        &ns,
        "od",
        "registry.k8s.io/pause:3.10",
        json!({}),
        json!([]),
    ))
    .unwrap();
    od["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
    ns.apply(&od.to_string());
    wait_ds(&ns, "od", "2 ready", |s| s["numberReady"] == 2);
    ns.kubectl(&["set", "image", "ds/od", "main=registry.k8s.io/pause:3.9"])
        .expect_code(0);
    // (a zero count is left out of the status)
    wait_ds(&ns, "od", "the change observed", |s| {
        s["updatedNumberScheduled"].as_i64().unwrap_or(0) == 0 && s["numberReady"] == 2
    });
    let j = sts_in(
        &ns.name,
        &["status", "ds/od", "-o", "json", "--context", &ctx],
        &[],
    )
    .expect_code(0)
    .json();
    assert_eq!(j["verdict"]["health"], "Stalled", "{j}");
    common::consistency::assert_consistent(&ns);
    let pods: Vec<String> = ["n0", "n1"]
        .iter()
        .map(|n| {
            row(&j, &format!("{}-{n}", ns.name))["pod"]["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let fix = fix_of(&j, "ds.rollout.ondelete", "daemonset/od");
    assert_eq!(
        fix,
        format!(
            "kubectl delete pod {} {} -n {} --context {ctx}",
            pods[0], pods[1], ns.name
        )
    );
    run_fix(&fix);
    wait_ds(&ns, "od", "2 updated and ready", |s| {
        s["updatedNumberScheduled"] == 2 && s["numberReady"] == 2
    });
    let j = sts_in(
        &ns.name,
        &["status", "ds/od", "-o", "json", "--fail-on", "warning"],
        &[],
    )
    .expect_code(0)
    .json();
    assert!(findings(&j, "ds.rollout.ondelete").is_empty(), "{j}");
    assert_eq!(j["verdict"]["health"], "Healthy", "{j}");
    common::consistency::assert_consistent(&ns);
    common::consistency::assert_consistent(&capped);
}
