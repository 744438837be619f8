//! The shared reproductions in `../shared/cases/` (situations operators
//! reported publicly), each step asserted against the expected answer in
//! its header. Every printed fix that the steps rely on is run as pasted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::consistency::assert_consistent;
use common::{Ns, wait_until};
use serde_json::Value;

const T: Duration = Duration::from_secs(240);

/// The case manifest, moved into the test's namespace.
fn case(ns: &Ns, file: &str, case_ns: &str) -> String {
    let path = format!("{}/../shared/cases/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.split("\n---\n")
        .filter(|doc| !doc.contains("kind: Namespace"))
        .collect::<Vec<_>>()
        .join("\n---\n")
        .replace(
            &format!("namespace: {case_ns}"),
            &format!("namespace: {}", ns.name),
        )
}

fn status(ns: &Ns, name: &str) -> Value {
    let r = ns.sts(&["status", name, "-o", "json"]);
    r.expect_code(0);
    r.json()
}

fn findings<'a>(j: &'a Value, id: &str) -> Vec<&'a Value> {
    j["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["id"] == id)
        .collect()
}

fn ids(j: &Value) -> Vec<String> {
    j["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// Runs the command a fix prints (from its first `kubectl `), as pasted
/// into a shell with the sandbox's kubeconfig. The fix must carry `-n`.
fn run_fix(ns: &Ns, fix: &str) {
    let at = fix
        .find("kubectl ")
        .unwrap_or_else(|| panic!("no command in fix {fix:?}"));
    let cmd = &fix[at..];
    assert!(
        cmd.contains(&format!("-n {}", ns.name)),
        "fix without -n: {cmd}"
    );
    let out = std::process::Command::new("bash")
        .args(["-c", cmd])
        .env("KUBECONFIG", &common::env().kubeconfig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fix failed: {cmd}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fail_on(ns: &Ns, name: &str, level: &str) -> i32 {
    ns.sts(&["status", name, "--fail-on", level]).code
}

#[test]
fn crashloop_first() {
    let ns = Ns::new("case-crashloop-first");
    ns.apply(&case(&ns, "crashloop-first.yaml", "case-crashloop-first"));
    // 1. zk-0 crash-loops; zk-1 and zk-2 are never created.
    let mut j = Value::Null;
    wait_until("zk-0 in CrashLoopBackOff", T, || {
        j = status(&ns, "zk");
        findings(&j, "pod.not_ready").iter().any(|f| {
            f["message"]
                .as_str()
                .unwrap_or("")
                .contains("CrashLoopBackOff")
        })
    });
    let nr = findings(&j, "pod.not_ready");
    assert_eq!(nr.len(), 1, "{j}");
    assert_eq!(nr[0]["object"], "pod/zk-0");
    assert_eq!(nr[0]["severity"], "error");
    let fix = nr[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains(&format!(
            "kubectl logs zk-0 -c app --previous -n {}",
            ns.name
        )),
        "{fix}"
    );
    let missing = findings(&j, "pod.missing");
    assert_eq!(missing.len(), 1, "{j}");
    assert_eq!(
        missing[0]["objects"],
        serde_json::json!(["pod/zk-1", "pod/zk-2"])
    );
    assert!(
        missing[0]["message"]
            .as_str()
            .unwrap()
            .contains("OrderedReady waits for zk-0")
    );
    assert!(
        !ids(&j).contains(&"rollout.forced_rollback_trap".to_string()),
        "{j}"
    );
    assert_eq!(j["verdict"]["health"], "Degraded");
    assert_eq!(fail_on(&ns, "zk", "error"), 1);
    let fleet = assert_consistent(&ns);
    assert_eq!(fleet["items"][0]["verdict"], "Degraded");

    // 2. The image is fixed: zk-0 (old revision, never Ready) blocks the set.
    ns.kubectl(&["set", "image", "sts/zk", "app=nginx:1.25"])
        .expect_code(0);
    wait_until("the forced-rollback trap on zk-0", T, || {
        j = status(&ns, "zk");
        !findings(&j, "rollout.forced_rollback_trap").is_empty()
    });
    let trap = findings(&j, "rollout.forced_rollback_trap")[0];
    assert_eq!(trap["object"], "pod/zk-0");
    let fix = trap["fix"].as_str().unwrap();
    assert!(
        fix.contains(&format!("kubectl delete pod zk-0 -n {}", ns.name)),
        "{fix}"
    );
    assert!(
        !fix.contains("rollout undo"),
        "a revert would bring the crash back: {fix}"
    );
    assert_eq!(j["verdict"]["health"], "Stalled");
    assert_consistent(&ns);

    // 3. The printed fix, pasted: every pod comes up on the update revision.
    run_fix(&ns, fix);
    ns.wait_sts_settled("zk", T);
    wait_until("no warning or error finding", T, || {
        j = status(&ns, "zk");
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "info")
    });
    assert_eq!(j["verdict"]["health"], "Healthy");
    let fleet = assert_consistent(&ns);
    assert_eq!(fleet["items"][0]["verdict"], "Healthy");
}

#[test]
fn ondelete() {
    let ns = Ns::new("case-ondelete");
    ns.apply(&case(&ns, "ondelete.yaml", "case-ondelete"));
    ns.wait_sts_settled("kv", T);
    // Every pod exists and runs the first revision before the image changes
    // (a pod created after the change would start on the new revision).
    wait_until("3 pods Ready on one revision", T, || {
        let j = status(&ns, "kv");
        j["ordinals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["pod"]["ready"] == true && o["pod"]["updated"] == true)
            && ns.get("statefulset", "kv")["status"]["currentReplicas"] == 3
    });
    let rv_of = |ns: &Ns| ns.get("statefulset", "kv")["metadata"]["resourceVersion"].clone();

    // 2. A new image: nothing is replaced under OnDelete.
    ns.kubectl(&["set", "image", "sts/kv", "app=nginx:1.26"])
        .expect_code(0);
    let mut j = Value::Null;
    wait_until("three pods waiting for a manual delete", T, || {
        j = status(&ns, "kv");
        findings(&j, "rollout.on_delete_pending")
            .first()
            .is_some_and(|f| f["message"].as_str().unwrap().contains("kv-2, kv-1, kv-0"))
    });
    assert!(
        !ids(&j).contains(&"rollout.forced_rollback_trap".to_string()),
        "{j}"
    );
    assert_eq!(j["verdict"]["health"], "Stalled");
    assert_consistent(&ns);
    let fix = findings(&j, "rollout.on_delete_pending")[0]["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.contains(&format!("kubectl delete pod kv-2 -n {}", ns.name)),
        "{fix}"
    );

    // 3. The fix as pasted: kv-2 comes back on the update revision.
    run_fix(&ns, &fix);
    wait_until("kv-1, kv-0 left", T, || {
        j = status(&ns, "kv");
        findings(&j, "rollout.on_delete_pending")
            .first()
            .is_some_and(|f| {
                f["message"]
                    .as_str()
                    .unwrap()
                    .ends_with("Ready: kv-1, kv-0")
            })
            && j["ordinals"][2]["pod"]["updated"] == true
            && j["ordinals"][2]["pod"]["ready"] == true
    });
    assert_consistent(&ns);

    // 4. Every pod replaced: complete, although currentRevision is stale.
    ns.kubectl(&["delete", "pod", "kv-1", "kv-0"])
        .expect_code(0);
    wait_until("every pod on the update revision and Ready", T, || {
        j = status(&ns, "kv");
        j["ordinals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["pod"]["updated"] == true && o["pod"]["ready"] == true)
    });
    let sts = ns.get("statefulset", "kv");
    assert_ne!(
        sts["status"]["currentRevision"], sts["status"]["updateRevision"],
        "1.36 does not advance currentRevision under OnDelete"
    );
    let found = ids(&j);
    assert!(
        !found.contains(&"rollout.on_delete_pending".to_string()),
        "{j}"
    );
    assert!(!found.contains(&"rollout.in_progress".to_string()), "{j}");
    assert_eq!(j["header"]["rollout"]["state"], "complete");
    assert_eq!(j["verdict"]["health"], "Healthy");
    assert_eq!(fail_on(&ns, "kv", "warning"), 0);
    let fleet = assert_consistent(&ns);
    assert_eq!(fleet["items"][0]["verdict"], "Healthy");
    let table = ns.sts(&["status", "kv"]);
    assert!(
        !table.stdout.contains("rollout in progress"),
        "{}",
        table.stdout
    );

    // 5. A canary needs RollingUpdate: refused before any write.
    let before = rv_of(&ns);
    let r = ns.sts(&["canary", "kv", "--image", "app=nginx:1.27", "--yes"]);
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(rv_of(&ns), before);
}

#[test]
fn svc_dns() {
    let ns = Ns::new("case-svc-dns");
    ns.apply(&case(&ns, "svc-dns.yaml", "case-svc-dns"));
    ns.wait_sts_settled("cache", T);
    ns.wait_sts_settled("db", T);

    // A: the headless Service selects name=cache, the pods are app=cache.
    let j = status(&ns, "cache");
    assert_eq!(j["header"]["serviceVerdict"], "selector-mismatch");
    let f = findings(&j, "service.selector_mismatch");
    assert_eq!(f.len(), 1, "{j}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("name=cache") && msg.contains("app=cache"),
        "{msg}"
    );
    for o in j["ordinals"].as_array().unwrap() {
        assert_eq!(o["dnsState"], "no-records", "{o}");
    }
    let table = ns.sts(&["status", "cache"]);
    assert!(
        table.stdout.contains("no per-pod DNS names"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains(" ok\n"), "{}", table.stdout);
    assert_eq!(fail_on(&ns, "cache", "error"), 1);

    // B: serviceName db is a ClusterIP Service; db-hl publishes no db-N names.
    let j = status(&ns, "db");
    assert_eq!(j["header"]["serviceVerdict"], "not-headless");
    assert_eq!(findings(&j, "service.not_headless").len(), 1, "{j}");
    let all = ns.sts(&["status", "db", "-o", "wide"]);
    assert!(!all.stdout.contains(".db-hl."), "{}", all.stdout);
    assert!(!all.stdout.contains(" ok\n"), "{}", all.stdout);
    assert_eq!(fail_on(&ns, "db", "error"), 1);
    assert_consistent(&ns);

    // Each printed fix, pasted, clears its finding.
    let fix = findings(&status(&ns, "cache"), "service.selector_mismatch")[0]["fix"]
        .as_str()
        .unwrap()
        .to_string();
    run_fix(&ns, &fix);
    let fix = findings(&status(&ns, "db"), "service.not_headless")[0]["fix"]
        .as_str()
        .unwrap()
        .to_string();
    run_fix(&ns, &fix);
    for name in ["cache", "db"] {
        let j = status(&ns, name);
        assert_eq!(j["header"]["serviceVerdict"], "ok", "{name}: {j}");
        for o in j["ordinals"].as_array().unwrap() {
            assert_eq!(o["dnsState"], "resolves", "{name}: {o}");
        }
        assert_eq!(fail_on(&ns, name, "error"), 0);
    }
    // The missing-Service fix creates a headless Service selecting the pods.
    ns.kubectl(&["delete", "service", "cache-hl"])
        .expect_code(0);
    let j = status(&ns, "cache");
    let fix = findings(&j, "service.missing")[0]["fix"]
        .as_str()
        .unwrap()
        .to_string();
    run_fix(&ns, &fix);
    let j = status(&ns, "cache");
    assert_eq!(j["header"]["serviceVerdict"], "ok", "{j}");
    assert_consistent(&ns);
}
