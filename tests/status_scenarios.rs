//! `kubectl sts status` scenarios against the sandbox: table AND JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Ns, wait_until};
use serde_json::Value;

const T: Duration = Duration::from_secs(240);

fn finding<'a>(j: &'a Value, id: &str) -> Vec<&'a Value> {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

fn objects(j: &Value, id: &str) -> Vec<String> {
    finding(j, id)
        .iter()
        .map(|f| f["object"].as_str().unwrap().to_string())
        .collect()
}

fn ordinals(j: &Value, key: &str) -> Vec<i64> {
    j[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["ordinal"].as_i64().unwrap())
        .collect()
}

fn scale(ns: &Ns, n: &str) {
    ns.kubectl(&["scale", "statefulset", "web", &format!("--replicas={n}")])
        .expect_code(0);
}

#[test]
fn scale_down_3_to_1_flags_claims_out_of_range() {
    let ns = Ns::new("status-scale-down");
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", T);
    scale(&ns, "1");
    ns.wait_sts_settled("web", T);
    wait_until("web-1 and web-2 gone", T, || {
        ns.kubectl(&["get", "pods", "-o", "name"]).stdout.trim() == "pod/web-0"
    });

    let j = ns
        .sts(&["status", "web", "-o", "json"])
        .expect_code(0)
        .json();
    assert_eq!(ordinals(&j, "ordinals"), vec![0]);
    assert_eq!(ordinals(&j, "outOfRange"), vec![1, 2]);
    assert_eq!(objects(&j, "pvc.out_of_range"), vec!["statefulset/web"]);
    assert_eq!(
        finding(&j, "pvc.out_of_range")[0]["message"],
        "2 claims left behind by a scale-down (ordinals outside the live range 0..0): data-web-1, data-web-2"
    );
    assert_eq!(
        finding(&j, "pvc.out_of_range")[0]["fix"],
        format!("kubectl sts prune-pvcs web -n {}", ns.name)
    );
    assert_eq!(j["outOfRange"][0]["claims"][0]["name"], "data-web-1");
    assert!(j["outOfRange"][0]["pod"].is_null());

    let r = ns.sts(&["status", "web"]);
    r.expect_code(0);
    assert!(
        r.stdout.contains("-- out of range (live ordinals 0..0) --"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("data-web-1, data-web-2")
            && r.stdout.contains("kubectl sts prune-pvcs web"),
        "{}",
        r.stdout
    );
    ns.sts(&["status", "web", "--fail-on", "warning"])
        .expect_code(1);
    ns.sts(&["status", "web", "--fail-on", "error"])
        .expect_code(0);
    common::consistency::assert_consistent(&ns);
}

#[test]
fn ordinals_start_5_scale_down_flags_6_and_7() {
    let ns = Ns::new("status-start5");
    ns.apply(&common::web_yaml(&[(
        "  replicas: 3",
        "  ordinals:\n    start: 5\n  replicas: 3",
    )]));
    ns.wait_sts_settled("web", T);
    scale(&ns, "1");
    ns.wait_sts_settled("web", T);
    wait_until("only web-5 left", T, || {
        ns.kubectl(&["get", "pods", "-o", "name"]).stdout.trim() == "pod/web-5"
    });
    let j = ns
        .sts(&["status", "web", "-o", "json"])
        .expect_code(0)
        .json();
    assert_eq!(j["header"]["ordinalsStart"], 5);
    assert_eq!(ordinals(&j, "ordinals"), vec![5]);
    assert_eq!(j["ordinals"][0]["pod"]["name"], "web-5");
    assert_eq!(ordinals(&j, "outOfRange"), vec![6, 7]);
    assert!(
        finding(&j, "pvc.out_of_range")[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(ordinals outside the live range 5..5): data-web-6, data-web-7"),
        "{:#}",
        j["findings"]
    );
    let r = ns.sts(&["status", "web"]);
    let first_row = r.stdout.lines().find(|l| l.starts_with("web-")).unwrap();
    assert!(first_row.starts_with("web-5 "), "{}", r.stdout);
    assert!(r.stdout.contains("live ordinals 5..5"), "{}", r.stdout);
    common::consistency::assert_consistent(&ns);
}

#[test]
fn deleted_headless_service_is_flagged() {
    let ns = Ns::new("status-svc-deleted");
    ns.apply(&common::web_yaml(&[]));
    ns.kubectl(&["delete", "service", "nginx-headless"])
        .expect_code(0);
    let j = ns
        .sts(&["status", "web", "-o", "json"])
        .expect_code(0)
        .json();
    assert_eq!(j["header"]["serviceVerdict"], "missing");
    let f = finding(&j, "service.missing");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["object"], "service/nginx-headless");
    let r = ns.sts(&["status", "web", "--fail-on", "error"]);
    r.expect_code(1);
    assert!(
        r.stdout.contains("Service:    nginx-headless (missing)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("governing Service \"nginx-headless\" does not exist"),
        "{}",
        r.stdout
    );
    common::consistency::assert_consistent(&ns);
}

#[test]
fn service_with_wrong_selector_is_flagged() {
    let ns = Ns::new("status-svc-selector");
    ns.apply(&common::web_yaml(&[(
        "  selector:\n    app: web\n  ports",
        "  selector:\n    app: wrong\n  ports",
    )]));
    let j = ns
        .sts(&["status", "web", "-o", "json"])
        .expect_code(0)
        .json();
    assert_eq!(j["header"]["serviceVerdict"], "selector-mismatch");
    assert_eq!(
        objects(&j, "service.selector_mismatch"),
        vec!["service/nginx-headless"]
    );
    let r = ns.sts(&["status", "web"]);
    assert!(
        r.stdout.contains("(selector-mismatch)") && r.stdout.contains("does not select the pods"),
        "{}",
        r.stdout
    );
    common::consistency::assert_consistent(&ns);
}

#[test]
fn claim_of_missing_storage_class_is_diagnosed() {
    let ns = Ns::new("status-no-sc");
    ns.apply(&common::web_yaml(&[(
        "      accessModes:",
        "      storageClassName: no-such-class\n      accessModes:",
    )]));
    wait_until("ProvisioningFailed event on data-web-0", T, || {
        ns.kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=data-web-0",
            "-o",
            "json",
        ])
        .json()["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["reason"] == "ProvisioningFailed"))
    });
    let j = ns
        .sts(&["status", "web", "-o", "json"])
        .expect_code(0)
        .json();
    let f = finding(&j, "pvc.pending");
    assert_eq!(f.len(), 1, "{:#}", j["findings"]);
    assert_eq!(f[0]["object"], "pvc/data-web-0");
    assert_eq!(f[0]["severity"], "error");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("\"no-such-class\" does not exist"),
        "{}",
        f[0]
    );
    assert_eq!(j["ordinals"][0]["claims"][0]["phase"], "Pending");
    // Under OrderedReady web-1 waits for web-0.
    assert!(
        finding(&j, "pod.missing")
            .iter()
            .any(|m| m["message"].as_str().unwrap().contains("waits for web-0"))
    );
    let r = ns.sts(&["status", "web"]);
    assert!(r.stdout.contains("no-such-class"), "{}", r.stdout);
    common::consistency::assert_consistent(&ns);
}

#[test]
fn partitioned_rollout_shows_web_2_updated_and_web_0_1_old() {
    let ns = Ns::new("status-partition");
    ns.apply(&common::web_yaml(&[(
        "  serviceName: nginx-headless",
        "  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      partition: 2\n  serviceName: nginx-headless",
    )]));
    let before = ns.wait_sts_settled("web", T);
    let old = before["status"]["updateRevision"]
        .as_str()
        .unwrap()
        .to_string();
    ns.kubectl(&["set", "image", "statefulset/web", "nginx=nginx:1.26"])
        .expect_code(0);
    let mut new = String::new();
    wait_until("web-2 on the new revision and Ready", T, || {
        let s = ns.get("statefulset", "web");
        new = s["status"]["updateRevision"]
            .as_str()
            .unwrap_or("")
            .to_string();
        // web-2 is briefly absent while the controller recreates it.
        let r = ns.kubectl(&["get", "pod", "web-2", "-o", "json"]);
        if r.code != 0 {
            return false;
        }
        let p = r.json();
        new != old
            && p["metadata"]["labels"]["controller-revision-hash"] == new.as_str()
            && p["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
    });
    let j = ns
        .sts(&["status", "web", "-o", "json"])
        .expect_code(0)
        .json();
    assert_eq!(j["header"]["partition"], 2);
    assert_eq!(j["header"]["updateRevision"], new.as_str());
    let updated: Vec<bool> = j["ordinals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["pod"]["updated"].as_bool().unwrap())
        .collect();
    assert_eq!(updated, vec![false, false, true]);
    let revs: Vec<&str> = j["ordinals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["pod"]["revision"].as_str().unwrap())
        .collect();
    assert_eq!(revs, vec![old.as_str(), old.as_str(), new.as_str()]);
    assert!(
        finding(&j, "rollout.partitioned")[0]["message"]
            .as_str()
            .unwrap()
            .contains("web-0, web-1")
    );
    let r = ns.sts(&["status", "web"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let sep = lines
        .iter()
        .position(|l| l.contains("-- partition 2: ordinals >= 2 get the update revision --"))
        .unwrap();
    assert!(
        lines[sep - 1].contains(&format!("{old} (old)")) && lines[sep - 1].contains("web-1"),
        "{}",
        r.stdout
    );
    assert!(
        lines[sep + 1].contains(&format!("{new} (update)")) && lines[sep + 1].contains("web-2"),
        "{}",
        r.stdout
    );
    // A change held by a partition, with no canary: Paused, and the fix is
    // to continue it as a canary (or lower the partition by hand).
    let j = ns.sts(&["status", "web", "-o", "json"]);
    let j = j.json();
    assert_eq!(j["verdict"]["health"], "Paused", "{}", j["verdict"]);
    let fix = finding(&j, "rollout.partitioned")[0]["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.contains(&format!("kubectl sts canary web -n {} --adopt", ns.name)),
        "{fix}"
    );
    // --context is repeated in every printed command.
    let r = ns.sts(&["status", "web", "--context", "sandbox", "-o", "json"]);
    let fix = finding(&r.json(), "rollout.partitioned")[0]["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.contains(&format!("-n {} --context sandbox --adopt", ns.name)),
        "{fix}"
    );
    common::consistency::assert_consistent(&ns);
}

#[test]
fn canary_in_progress_is_paused_between_steps_with_canary_fixes() {
    let ns = Ns::new("status-canary");
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", T);
    // One step per run without a terminal: the canary stops after step 1
    // (exit 5), held between steps.
    let r = ns.sts(&[
        "canary",
        "web",
        "--image",
        "nginx=nginx:1.26",
        "--yes",
        "--soak",
        "1s",
    ]);
    assert_eq!(r.code, 5, "{}\n{}", r.stdout, r.stderr);
    let j = ns.sts(&["status", "web", "-o", "json"]).json();
    assert_eq!(j["canaryStage"]["phase"], "settled", "{}", j["canaryStage"]);
    assert_eq!(j["canaryStage"]["step"], 1);
    assert_eq!(j["verdict"]["health"], "Paused");
    let f = &finding(&j, "canary.settled")[0];
    let fix = f["fix"].as_str().unwrap();
    for cmd in [
        format!("kubectl sts canary web -n {}", ns.name),
        format!("kubectl sts canary web -n {} --promote", ns.name),
        format!("kubectl sts canary web -n {} --abort", ns.name),
    ] {
        assert!(fix.contains(&cmd), "{fix}");
    }
    // No finding suggests a hand-written partition patch while a canary runs.
    for f in j["findings"].as_array().unwrap() {
        let fix = f["fix"].as_str().unwrap_or("");
        assert!(!fix.contains("kubectl patch"), "{f}");
    }
    let table = ns.sts(&["status", "web"]);
    assert!(
        table.stdout.contains("step 1/3 settled"),
        "{}",
        table.stdout
    );
    let fleet = common::consistency::assert_consistent(&ns);
    assert_eq!(fleet["items"][0]["verdict"], "Paused");
    assert_eq!(fleet["items"][0]["finding"], "canary.settled");
    // Abort as the fix says: the canary state is gone, every pod back.
    let r = ns.sts(&["canary", "web", "--abort", "--yes"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    ns.wait_sts_settled("web", T);
    let j = ns.sts(&["status", "web", "-o", "json"]).json();
    assert!(j["canary"].is_null(), "{j}");
    assert_eq!(j["verdict"]["health"], "Healthy", "{}", j["verdict"]);
    common::consistency::assert_consistent(&ns);
}

#[test]
fn crash_looping_pod_is_diagnosed_with_its_cause() {
    let ns = Ns::new("status-crashloop");
    ns.apply(&common::web_yaml(&[
        ("  replicas: 3", "  replicas: 1"),
        ("image: nginx:1.25", "image: example.invalid/crash-loop:1"),
    ]));
    wait_until("web-0 in CrashLoopBackOff", T, || {
        let p = ns.kubectl(&["get", "pod", "web-0", "-o", "json"]);
        p.code == 0
            && p.json()["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                == "CrashLoopBackOff"
    });
    let j = ns
        .sts(&["status", "web", "-o", "json"])
        .expect_code(0)
        .json();
    let f = finding(&j, "pod.not_ready");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["object"], "pod/web-0");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("CrashLoopBackOff"),
        "{}",
        f[0]
    );
    assert!(
        f[0]["fix"]
            .as_str()
            .unwrap()
            .contains("kubectl logs web-0 -c nginx --previous"),
        "{}",
        f[0]
    );
    assert_eq!(j["ordinals"][0]["pod"]["status"], "CrashLoopBackOff");
    assert_eq!(j["ordinals"][0]["pod"]["restarts"], 5);
    ns.sts(&["status", "web", "--fail-on", "error"])
        .expect_code(1);
    common::consistency::assert_consistent(&ns);
}

#[test]
fn forced_rollback_trap_is_diagnosed_after_revert() {
    let ns = Ns::new("status-trap");
    ns.apply(&common::web_yaml(&[]));
    let good = ns.wait_sts_settled("web", T)["status"]["updateRevision"]
        .as_str()
        .unwrap()
        .to_string();
    ns.kubectl(&[
        "set",
        "image",
        "statefulset/web",
        "nginx=example.invalid/image-pull-backoff:1",
    ])
    .expect_code(0);
    wait_until(
        "web-2 stuck in ImagePullBackOff on the bad revision",
        T,
        || {
            let p = ns.kubectl(&["get", "pod", "web-2", "-o", "json"]);
            if p.code != 0 {
                return false;
            }
            let p = p.json();
            p["metadata"]["labels"]["controller-revision-hash"] != good.as_str()
                && p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                    == "ImagePullBackOff"
        },
    );
    let bad = ns.get("pod", "web-2")["metadata"]["labels"]["controller-revision-hash"]
        .as_str()
        .unwrap()
        .to_string();
    ns.kubectl(&["set", "image", "statefulset/web", "nginx=nginx:1.25"])
        .expect_code(0);
    wait_until("update revision back to the good one", T, || {
        let s = ns.get("statefulset", "web");
        s["status"]["updateRevision"] == good.as_str()
            && s["status"]["observedGeneration"] == s["metadata"]["generation"]
    });
    // The controller does not replace web-2: it is still on the bad revision.
    assert_eq!(
        ns.get("pod", "web-2")["metadata"]["labels"]["controller-revision-hash"],
        bad.as_str()
    );
    let j = ns
        .sts(&["status", "web", "-o", "json"])
        .expect_code(0)
        .json();
    let f = finding(&j, "rollout.forced_rollback_trap");
    assert_eq!(f.len(), 1, "{:#}", j["findings"]);
    assert_eq!(f[0]["object"], "pod/web-2");
    assert!(f[0]["message"].as_str().unwrap().contains(&bad), "{}", f[0]);
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.ends_with(&format!(
            "kubectl delete pod web-2 -n {} --wait=false",
            ns.name
        )),
        "{fix}"
    );
    let r = ns.sts(&["status", "web"]);
    assert!(
        r.stdout.contains("kubernetes#67250") && r.stdout.contains("kubectl delete pod web-2"),
        "{}",
        r.stdout
    );
    // Following the fix unsticks it.
    ns.kubectl(&["delete", "pod", "web-2", "--wait=false"])
        .expect_code(0);
    ns.wait_sts_settled("web", T);
    let j = ns
        .sts(&["status", "web", "-o", "json"])
        .expect_code(0)
        .json();
    assert!(
        finding(&j, "rollout.forced_rollback_trap").is_empty(),
        "{:#}",
        j["findings"]
    );
    common::consistency::assert_consistent(&ns);
}

#[test]
fn fleet_all_namespaces_lists_the_set() {
    let ns = Ns::new("status-fleet");
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", T);
    let r = common::sts(&["status", "-A"]);
    r.expect_code(0);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{} ", ns.name)))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        &cols[..7],
        &[ns.name.as_str(), "sts/web", "3", "3", "3", "3", "Healthy"]
    );
    let j = common::sts(&["status", "-A", "-o", "json"])
        .expect_code(0)
        .json();
    assert_eq!(j["kind"], "Fleet");
    let item = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["namespace"] == ns.name.as_str())
        .unwrap();
    assert_eq!(item["verdict"], "Healthy");
    assert_eq!(item["name"], "web");
    // Namespace view: only this namespace.
    let j = ns.sts(&["status", "-o", "json"]).expect_code(0).json();
    assert_eq!(j["items"].as_array().unwrap().len(), 1);
    common::consistency::assert_consistent(&ns);
}

#[test]
fn namespace_only_user_gets_the_view_with_a_note() {
    let ns = Ns::new("status-viewer");
    ns.kubectl(&[
        "create",
        "rolebinding",
        "viewer",
        "--clusterrole=view",
        "--user=sts-viewer",
    ])
    .expect_code(0);
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", T);
    let viewer = common::env()
        .viewer_kubeconfig
        .to_str()
        .unwrap()
        .to_string();
    let r = common::sts(&[
        "status",
        "web",
        "-n",
        &ns.name,
        "--kubeconfig",
        &viewer,
        "-o",
        "wide",
    ]);
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("note: not allowed to list persistentvolumes"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(
        r.stdout.lines().filter(|l| l.starts_with("web-")).count(),
        3,
        "{}",
        r.stdout
    );
    let j = common::sts(&[
        "status",
        "web",
        "-n",
        &ns.name,
        "--kubeconfig",
        &viewer,
        "-o",
        "json",
    ])
    .expect_code(0)
    .json();
    assert!(
        j["notes"][0]
            .as_str()
            .unwrap()
            .contains("persistentvolumes")
    );
    common::consistency::assert_consistent(&ns);
}

#[test]
fn watch_lists_once_per_kind_then_only_watches() {
    let ns = Ns::new("status-watch");
    ns.apply(&common::web_yaml(&[("  replicas: 3", "  replicas: 1")]));
    ns.wait_sts_settled("web", T);
    let child = ns.spawn_watch(&["status", "web", "--watch"], "30s");
    let audit = || common::audit_events(&ns.name);
    wait_until("the plugin's pod watch", T, || {
        audit()
            .iter()
            .any(|e| e["verb"] == "watch" && e["objectRef"]["resource"] == "pods")
    });
    scale(&ns, "2");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let renders: Vec<&str> = stdout.split("\n\nStatefulSet ").collect();
    assert!(
        renders.len() >= 2,
        "expected a re-render after the scale-up:\n{stdout}"
    );
    assert!(renders.last().unwrap().contains("web-1"), "{stdout}");

    let mut verbs: BTreeMap<(String, String), std::collections::BTreeSet<String>> = BTreeMap::new();
    for e in audit() {
        verbs
            .entry((
                e["objectRef"]["resource"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                e["verb"].as_str().unwrap_or("").to_string(),
            ))
            .or_default()
            .insert(e["auditID"].as_str().unwrap_or("").to_string());
    }
    for kind in [
        "statefulsets",
        "pods",
        "persistentvolumeclaims",
        "services",
        "events",
    ] {
        assert_eq!(
            verbs
                .get(&(kind.to_string(), "list".to_string()))
                .map(|s| s.len()),
            Some(1),
            "{kind}: {verbs:?}"
        );
        assert!(
            verbs.contains_key(&(kind.to_string(), "watch".to_string())),
            "{kind}: {verbs:?}"
        );
    }
    // Besides LIST and WATCH, only the up-front rights checks.
    let others: Vec<_> = verbs
        .keys()
        .filter(|(r, v)| v != "list" && v != "watch" && r != "selfsubjectaccessreviews")
        .collect();
    assert!(
        others.is_empty(),
        "only LIST and WATCH expected: {others:?}"
    );
    common::consistency::assert_consistent(&ns);
}

#[test]
fn a_partition_changed_outside_a_canary_stops_it_and_status_offers_the_way_out() {
    let ns = Ns::new("status-canary-partition");
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", T);
    let r = ns.sts(&[
        "canary",
        "web",
        "--image",
        "nginx=nginx:1.26",
        "--yes",
        "--soak",
        "1s",
    ]);
    assert_eq!(r.code, 5, "{}\n{}", r.stdout, r.stderr);
    // A colleague holds every pod back by hand.
    ns.kubectl(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":3}}}}"#,
    ])
    .expect_code(0);
    let before = ns.get("statefulset", "web")["metadata"]["resourceVersion"].clone();
    // Resuming must not override the hold: exit 4, nothing written.
    let r = ns.sts(&["canary", "web", "--yes", "--soak", "1s"]);
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("the partition of statefulset web was changed outside the canary: it is 3, the canary set 2"), "{}", r.stderr);
    let s = ns.get("statefulset", "web");
    assert_eq!(s["metadata"]["resourceVersion"], before);
    assert_eq!(s["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 3);
    // status says so, and its way out (keep the hold, end the canary) works as pasted.
    let j = ns.sts(&["status", "web", "-o", "json"]).json();
    assert_eq!(
        j["canaryStage"]["phase"], "changed-outside",
        "{}",
        j["canaryStage"]
    );
    assert_eq!(j["verdict"]["health"], "Stalled");
    let f = &finding(&j, "canary.changed_outside")[0];
    let fix = f["fix"].as_str().unwrap();
    let keep = &fix[fix.find("kubectl annotate").unwrap()..];
    assert_eq!(
        keep,
        format!(
            "kubectl annotate sts web -n {} kubectl-sts.io/canary-",
            ns.name
        )
    );
    let out = std::process::Command::new("bash")
        .args(["-c", keep])
        .env("KUBECONFIG", &common::env().kubeconfig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = ns.sts(&["status", "web", "-o", "json"]).json();
    assert!(j["canary"].is_null(), "{j}");
    assert_eq!(j["verdict"]["health"], "Paused", "{}", j["verdict"]);
    common::consistency::assert_consistent(&ns);
}

#[test]
fn an_abort_names_pods_below_the_floor_moved_outside_the_canary() {
    let ns = Ns::new("status-canary-floor");
    ns.apply(&common::web_yaml(&[(
        "  serviceName: nginx-headless",
        "  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      partition: 1\n  serviceName: nginx-headless",
    )]));
    ns.wait_sts_settled("web", T);
    let r = ns.sts(&[
        "canary",
        "web",
        "--image",
        "nginx=nginx:1.26",
        "--yes",
        "--soak",
        "1s",
        "--allow-big-steps",
    ]);
    assert_eq!(r.code, 5, "{}\n{}", r.stdout, r.stderr);
    let to = ns.sts(&["status", "web", "-o", "json"]).json()["canary"]["to"]
        .as_str()
        .unwrap()
        .to_string();
    // Someone lowers the partition below the floor by hand: web-0 moves too.
    ns.kubectl(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}"#,
    ])
    .expect_code(0);
    wait_until("web-0 on the canary's revision", T, || {
        let r = ns.kubectl(&["get", "pod", "web-0", "-o", "json"]);
        r.code == 0 && r.json()["metadata"]["labels"]["controller-revision-hash"] == to.as_str()
    });
    let r = ns.sts(&["canary", "web", "--abort", "--yes"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains(&format!(
            "web-0 below the floor (partition 1) still run the canary's revision {to}"
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "kubectl delete pod web-0 -n {} --wait=false",
            ns.name
        )),
        "{all}"
    );
}
