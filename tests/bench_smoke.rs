//! Small-size version of the benchmark's request-count property, against the
//! shared sandbox: `status NAME` makes the same requests, one per kind,
//! whether the StatefulSet has 2 or 8 replicas. No timings are asserted.
//!
//! The plugin runs with a kubeconfig that impersonates a user unique to this
//! test, so its requests can be told apart in the shared audit log from those
//! of every other test running at the same time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Ns;
use serde_json::Value;

/// Writes a copy of the admin kubeconfig whose user impersonates `user`
/// (still in group system:masters).
fn impersonating_kubeconfig(user: &str, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(&common::env().kubeconfig).unwrap();
    let mut kc: Value = serde_saphyr::from_str(&text).unwrap();
    let users = kc["users"].as_array_mut().expect("kubeconfig has users");
    for u in users {
        let m = u["user"].as_object_mut().expect("user is a mapping");
        m.insert("as".into(), user.into());
        m.insert("as-groups".into(), serde_json::json!(["system:masters"]));
    }
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("kubeconfig");
    std::fs::write(&path, serde_saphyr::to_string(&kc).unwrap()).unwrap();
    path
}

/// Runs `status web` as `user` and returns its requests from the audit log
/// as "verb resource" → count (distinct auditID, stage ResponseComplete).
fn status_requests(
    ns: &Ns,
    user: &str,
    kubeconfig: &Path,
    marker: &str,
) -> BTreeMap<String, usize> {
    let log = &common::env().audit_log;
    let start = std::fs::metadata(log).unwrap().len();
    let kc = kubeconfig.to_str().unwrap();
    let r = common::sts_with(&["status", "web", "-n", &ns.name], &[("KUBECONFIG", kc)]);
    r.expect_code(0);
    assert!(r.stdout.contains("web-0"), "{}", r.stdout);
    // Fence: a request sent after the plugin exited; once it is in the log,
    // so is every request the plugin made.
    let fence = common::kubectl(&[
        "--kubeconfig",
        kc,
        "get",
        "configmap",
        marker,
        "-n",
        &ns.name,
        "--ignore-not-found",
    ]);
    fence.expect_code(0);
    let mut events: Vec<Value> = Vec::new();
    common::wait_until(
        &format!("audit event for {marker}"),
        Duration::from_secs(30),
        || {
            let bytes = std::fs::read(log).unwrap();
            let tail = &bytes[usize::try_from(start).unwrap().min(bytes.len())..];
            events = String::from_utf8_lossy(tail)
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|e| {
                    e["impersonatedUser"]["username"] == user && e["stage"] == "ResponseComplete"
                })
                .collect();
            events.iter().any(|e| e["objectRef"]["name"] == marker)
        },
    );
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    // Only the plugin's own requests (the fence is kubectl's).
    for e in events.iter().filter(|e| {
        e["userAgent"]
            .as_str()
            .unwrap_or("")
            .starts_with("kubectl-sts/")
    }) {
        let key = format!(
            "{} {}",
            e["verb"].as_str().unwrap(),
            e["objectRef"]["resource"].as_str().unwrap_or("?")
        );
        seen.insert(e["auditID"].as_str().unwrap().to_string(), key);
    }
    let mut by = BTreeMap::new();
    for k in seen.into_values() {
        *by.entry(k).or_insert(0) += 1;
    }
    by
}

#[test]
fn status_requests_are_one_per_kind_and_do_not_grow_with_replicas() {
    let ns = Ns::new("bench-smoke");
    let user = format!("sts-bench-{}", ns.name);
    let kc = impersonating_kubeconfig(
        &user,
        &std::env::temp_dir().join(format!("kubectl-sts-{}", ns.name)),
    );
    let claims_bound = |n: usize| {
        common::wait_until(
            &format!("{n} claims Bound"),
            Duration::from_secs(90),
            || {
                let v = ns.kubectl(&["get", "pvc", "-o", "json"]).json();
                v["items"].as_array().is_some_and(|a| {
                    a.len() == n && a.iter().all(|c| c["status"]["phase"] == "Bound")
                })
            },
        );
    };

    ns.apply(&common::web_yaml(&[(
        "replicas: 3",
        "replicas: 2\n  podManagementPolicy: Parallel",
    )]));
    ns.wait_sts_settled("web", Duration::from_secs(240));
    claims_bound(2);
    let small = status_requests(&ns, &user, &kc, "sts-bench-fence-1");

    ns.kubectl(&["scale", "statefulset", "web", "--replicas=8"])
        .expect_code(0);
    ns.wait_sts_settled("web", Duration::from_secs(240));
    claims_bound(8);
    let large = status_requests(&ns, &user, &kc, "sts-bench-fence-2");

    let total: usize = small.values().sum();
    assert_eq!(
        small, large,
        "requests changed with replicas: 2 → {small:?}, 8 → {large:?}"
    );
    assert!(total <= 8, "more than 8 requests: {small:?}");
    assert!(
        small.values().all(|&n| n == 1),
        "a kind was read more than once: {small:?}"
    );
    for kind in [
        "list pods",
        "list persistentvolumeclaims",
        "list statefulsets",
    ] {
        assert_eq!(small.get(kind), Some(&1), "{kind} missing from {small:?}");
    }
    let _ = std::fs::remove_dir_all(kc.parent().unwrap());
}
