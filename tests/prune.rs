//! `kubectl sts prune-pvcs` against the sandbox: the real binary, a real
//! control plane, one namespace per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::Ns;
use serde_json::Value;

const T: Duration = Duration::from_secs(240);

/// Applies `yaml`, waits for `sts` to settle, scales it to `to`, waits again.
fn scaled(ns: &Ns, yaml: &str, sts: &str, to: u32) {
    ns.apply(yaml);
    ns.wait_sts_settled(sts, T);
    ns.kubectl(&["scale", "statefulset", sts, &format!("--replicas={to}")])
        .expect_code(0);
    ns.wait_sts_settled(sts, T);
}

fn claims(ns: &Ns) -> Vec<(String, String)> {
    let v = ns
        .kubectl(&["get", "pvc", "-o", "json"])
        .expect_code(0)
        .json();
    let mut out: Vec<(String, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["metadata"]["deletionTimestamp"].is_null())
        .map(|c| {
            (
                c["metadata"]["name"].as_str().unwrap().to_string(),
                c["spec"]["volumeName"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["claim"].as_str().unwrap().to_string())
        .collect()
}

fn plan(ns: &Ns, extra: &[&str]) -> Value {
    let mut a = vec!["prune-pvcs", "-o", "json", "--dry-run"];
    a.extend_from_slice(extra);
    ns.sts(&a).expect_code(0).json()
}

fn wait_bound(ns: &Ns, n: usize) {
    common::wait_until(&format!("{n} claims bound"), T, || {
        let v = ns.kubectl(&["get", "pvc", "-o", "json"]).json();
        v["items"]
            .as_array()
            .is_some_and(|a| a.len() == n && a.iter().all(|c| c["status"]["phase"] == "Bound"))
    });
}

/// The claim names a status finding lists (after its last ": ").
fn listed(f: &Value) -> Vec<String> {
    f["message"]
        .as_str()
        .unwrap()
        .rsplit_once(": ")
        .unwrap()
        .1
        .split(", ")
        .map(String::from)
        .collect()
}

fn findings<'a>(status: &'a Value, id: &str) -> Vec<&'a Value> {
    status["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// status and prune-pvcs judge `set`'s claims alike: the names in its one
/// `pvc.out_of_range` WARNING are exactly the candidates of
/// `prune-pvcs NAME --dry-run -o json`, the `pvc.kept` INFO findings (no
/// fix) name exactly its skipped claims, and `--fail-on warning` fails only
/// when there is a candidate (no other warning in these scenarios).
/// Returns the status document.
fn status_agrees_with_prune(ns: &Ns, set: &str, extra: &[&str]) -> Value {
    let j = ns.sts(&["status", set, "-o", "json"]).expect_code(0).json();
    let p = plan(ns, &[&[set], extra].concat());
    let oor = findings(&j, "pvc.out_of_range");
    assert!(oor.len() <= 1, "one line per StatefulSet: {oor:#?}");
    for f in &oor {
        assert_eq!(f["severity"], "warning");
        assert_eq!(f["object"], format!("statefulset/{set}"));
        assert_eq!(
            f["fix"],
            format!("kubectl sts prune-pvcs {set} -n {}", ns.name)
        );
    }
    assert_eq!(
        sorted(oor.iter().flat_map(|f| listed(f)).collect()),
        sorted(names(&p["candidates"])),
        "status warnings vs prune candidates\nstatus: {j:#}\nprune: {p:#}"
    );
    let kept = findings(&j, "pvc.kept");
    for f in &kept {
        assert_eq!(f["severity"], "info", "{f}");
        assert!(f["fix"].is_null(), "{f}");
        assert!(f["message"].as_str().unwrap().starts_with("kept: "), "{f}");
    }
    assert_eq!(
        sorted(kept.iter().flat_map(|f| listed(f)).collect()),
        sorted(names(&p["skipped"])),
        "status kept vs prune skipped\nstatus: {j:#}\nprune: {p:#}"
    );
    let warnings = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .count();
    assert_eq!(warnings, oor.len(), "other warnings in {j:#}");
    ns.sts(&["status", set, "--fail-on", "warning"])
        .expect_code(if oor.is_empty() { 0 } else { 1 });
    j
}

fn scale_to(ns: &Ns, sts: &str, n: u32) {
    ns.kubectl(&["scale", "statefulset", sts, &format!("--replicas={n}")])
        .expect_code(0);
    ns.wait_sts_settled(sts, T);
    common::wait_until(&format!("{sts} pods above {n} gone"), T, || {
        let v = ns.kubectl(&["get", "pods", "-o", "json"]).json();
        v["items"].as_array().is_some_and(|a| {
            a.iter()
                .filter(|p| p["metadata"]["ownerReferences"][0]["name"] == sts)
                .count()
                == n as usize
        })
    });
}

#[test]
fn scale_down_3_to_1_plans_and_deletes_exactly_the_left_behind_claims() {
    let ns = Ns::new("prune-3to1");
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", T);
    wait_bound(&ns, 3);
    ns.kubectl(&["scale", "statefulset", "web", "--replicas=1"])
        .expect_code(0);
    ns.wait_sts_settled("web", T);
    let before = claims(&ns);
    assert_eq!(
        before.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["data-web-0", "data-web-1", "data-web-2"]
    );

    let p = plan(&ns, &[]);
    assert_eq!(p["apiVersion"], "kubectl-sts/v1");
    assert_eq!(p["kind"], "PrunePlan");
    assert_eq!(p["dryRun"], "client");
    assert_eq!(names(&p["candidates"]), ["data-web-1", "data-web-2"]);
    assert_eq!(p["skipped"].as_array().unwrap().len(), 0);
    common::wait_until("web-1 and web-2 gone", T, || {
        ns.kubectl(&["get", "pods", "-o", "name"]).stdout.trim() == "pod/web-0"
    });
    let st = status_agrees_with_prune(&ns, "web", &[]);
    assert_eq!(
        findings(&st, "pvc.out_of_range")[0]["message"],
        "2 claims left behind by a scale-down (ordinals outside the live range 0..0): data-web-1, data-web-2"
    );
    for (i, c) in p["candidates"].as_array().unwrap().iter().enumerate() {
        assert_eq!(c["ordinal"], i as i64 + 1);
        assert_eq!(c["statefulsets"], serde_json::json!(["web"]));
        assert_eq!(
            c["volume"].as_str().unwrap(),
            before[i + 1].1,
            "bound PV of {}",
            c["claim"]
        );
        assert_eq!(c["reclaimPolicy"], "Delete");
        assert_eq!(c["destroysData"], true);
        assert_eq!(c["phase"], "Bound");
    }

    // Table: the bound PV and "data destroyed" are said plainly, and the
    // dry run says so, with the counts of the plan.
    let t = ns
        .sts(&["prune-pvcs", "--dry-run"])
        .expect_code(0)
        .stdout
        .clone();
    assert!(
        t.contains(&before[1].1) && t.contains("Delete (data destroyed)"),
        "{t}"
    );
    assert!(
        t.ends_with("\nDeleting these 2 claims would delete their PersistentVolumes and the data on them (reclaim policy Delete).\n\nwould delete 2 claims, 0 skipped (dry run)\n"),
        "{t}"
    );

    // -A: every namespace; ours is in it with the same two claims.
    let all = ns
        .sts(&["prune-pvcs", "-A", "-o", "json", "--dry-run"])
        .expect_code(0)
        .json();
    let ours: Vec<&str> = all["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["namespace"] == ns.name.as_str())
        .map(|c| c["claim"].as_str().unwrap())
        .collect();
    assert_eq!(ours, ["data-web-1", "data-web-2"]);

    // No TTY and no --yes: nothing deleted, exit 4.
    let r = ns.sts(&["prune-pvcs"]);
    r.expect_code(4);
    assert!(
        r.stderr.contains("no terminal") && r.stderr.contains("--yes"),
        "{}",
        r.stderr
    );
    assert_eq!(claims(&ns), before);

    // --dry-run=server: DELETEs validated, nothing deleted.
    let r = ns.sts(&["prune-pvcs", "--dry-run=server"]);
    r.expect_code(0);
    assert!(
        r.stdout.contains(&format!(
            "deleted {}/data-web-1 (server dry run): would delete PV {} and its data\n",
            ns.name, before[1].1
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .ends_with("would delete 2 claims, 0 skipped, 0 failed (server dry run)\n"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("2 deleted"), "{}", r.stdout);
    assert_eq!(claims(&ns), before);

    let r = ns.sts(&["prune-pvcs", "web", "--yes"]);
    r.expect_code(0);
    assert!(
        r.stdout.contains(&format!(
            "deleted {}/data-web-1 (PV {} and its data deleted)",
            ns.name, before[1].1
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("2 deleted, 0 skipped, 0 failed"),
        "{}",
        r.stdout
    );
    assert_eq!(claims(&ns), before[..1]);
    let st = status_agrees_with_prune(&ns, "web", &[]);
    assert!(findings(&st, "pvc.out_of_range").is_empty());
    // Nothing left to do: exit 0.
    let r = ns.sts(&["prune-pvcs", "--yes"]);
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("No left-behind PersistentVolumeClaims to delete."),
        "{}",
        r.stdout
    );

    // The audit log: exactly 4 DELETEs of claims by the plugin in this namespace
    // (2 server dry-run, 2 real); --dry-run, -A --dry-run and the refused run sent none.
    let path = format!("/api/v1/namespaces/{}/persistentvolumeclaims/", ns.name);
    let deletes = || {
        std::fs::read_to_string(&common::env().audit_log)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                l.contains("\"verb\":\"delete\"")
                    && l.contains("\"userAgent\":\"kubectl-sts/")
                    && l.contains(&path)
                    && l.contains("\"stage\":\"ResponseComplete\"")
            })
            .count()
    };
    common::wait_until("4 audited DELETEs", Duration::from_secs(30), || {
        deletes() >= 4
    });
    assert_eq!(deletes(), 4);
}

#[test]
fn start_ordinal_5_range_is_start_based() {
    let ns = Ns::new("prune-start5");
    scaled(
        &ns,
        &common::web_yaml(&[("replicas: 3", "replicas: 3\n  ordinals:\n    start: 5")]),
        "web",
        1,
    );
    let before = claims(&ns);
    assert_eq!(
        before.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["data-web-5", "data-web-6", "data-web-7"]
    );
    let p = plan(&ns, &[]);
    assert_eq!(names(&p["candidates"]), ["data-web-6", "data-web-7"]);
    assert_eq!(
        p["candidates"][0]["reason"],
        "ordinal 6 outside 5..5 of web"
    );
    ns.sts(&["prune-pvcs", "--yes"]).expect_code(0);
    assert_eq!(claims(&ns), before[..1]);
}

#[test]
fn scaled_to_zero_is_a_pause_unless_asked() {
    let ns = Ns::new("prune-zero-pause");
    scaled(&ns, &common::web_yaml(&[]), "web", 0);
    scale_to(&ns, "web", 0);
    let before = claims(&ns);
    assert_eq!(before.len(), 3);
    let p = plan(&ns, &[]);
    assert_eq!(p["candidates"].as_array().unwrap().len(), 0);
    assert_eq!(
        names(&p["skipped"]),
        ["data-web-0", "data-web-1", "data-web-2"]
    );
    let why = "web is scaled to 0, often a pause, not a shrink; prune-pvcs --include-scaled-to-zero makes its claims candidates";
    assert_eq!(p["skipped"][0]["reason"], why);
    let st = status_agrees_with_prune(&ns, "web", &[]);
    let kept = findings(&st, "pvc.kept");
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0]["message"],
        format!("kept: {why}: data-web-0, data-web-1, data-web-2")
    );
    let t = ns.sts(&["status", "web"]).expect_code(0).stdout.clone();
    assert!(t.contains("--include-scaled-to-zero"), "{t}");
    // Nothing is deleted without the flag.
    let r = ns.sts(&["prune-pvcs", "web", "--yes"]);
    r.expect_code(0);
    assert!(
        r.stdout.starts_with(
            "No left-behind PersistentVolumeClaims to delete: all 3 found are never deleted.\n"
        ),
        "{}",
        r.stdout
    );
    assert_eq!(claims(&ns), before);
    // With it, every claim is a candidate.
    let p = plan(&ns, &["--include-scaled-to-zero"]);
    assert_eq!(
        names(&p["candidates"]),
        ["data-web-0", "data-web-1", "data-web-2"]
    );
    assert_eq!(
        p["candidates"][0]["reason"],
        "ordinal 0 outside none of web"
    );
}

#[test]
fn replicas_zero_mounted_and_opted_out_claims() {
    let ns = Ns::new("prune-zero");
    scaled(&ns, &common::web_yaml(&[]), "web", 0);
    // An unrelated pod mounts data-web-1; data-web-2 opts out.
    ns.apply(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: intruder\nspec:\n  containers:\n  - name: c\n    image: busybox:1\n  volumes:\n  - name: v\n    persistentVolumeClaim:\n      claimName: data-web-1\n",
    );
    ns.kubectl(&[
        "annotate",
        "pvc",
        "data-web-2",
        "kubectl-sts.io/prune=never",
    ])
    .expect_code(0);
    let before = claims(&ns);

    let p = plan(&ns, &["--include-deleted", "--include-scaled-to-zero"]);
    // A StatefulSet at replicas 0 still exists: its claims are exact matches, not "deleted set" guesses.
    assert_eq!(names(&p["candidates"]), ["data-web-0"]);
    assert_eq!(p["candidates"][0]["evidence"], "outOfRange");
    assert_eq!(p["weakCandidates"].as_array().unwrap().len(), 0);
    assert_eq!(names(&p["skipped"]), ["data-web-1", "data-web-2"]);
    assert_eq!(p["skipped"][0]["reason"], "mounted by pod intruder");
    assert_eq!(
        p["skipped"][1]["reason"],
        "annotated kubectl-sts.io/prune=never"
    );

    let r = ns.sts(&[
        "prune-pvcs",
        "--yes",
        "--include-deleted",
        "--include-scaled-to-zero",
    ]);
    r.expect_code(0);
    assert!(
        r.stdout.contains("Skipped (2), never deleted:")
            && r.stdout.ends_with("1 deleted, 2 skipped, 0 failed\n"),
        "{}",
        r.stdout
    );
    assert_eq!(claims(&ns), before[1..]);
}

#[test]
fn hpa_max_replicas_protects_claims_unless_ignored() {
    let ns = Ns::new("prune-hpa");
    scaled(&ns, &common::web_yaml(&[]), "web", 1);
    ns.apply(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: StatefulSet\n    name: web\n  minReplicas: 1\n  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      target:\n        type: Utilization\n        averageUtilization: 80\n",
    );
    let p = plan(&ns, &[]);
    assert_eq!(p["candidates"].as_array().unwrap().len(), 0);
    assert_eq!(names(&p["skipped"]), ["data-web-1", "data-web-2"]);
    assert!(
        p["skipped"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("HPA web may scale web up to 3 replicas"),
        "{}",
        p["skipped"][1]
    );
    // status reads the same HPA: both claims are INFO kept, and
    // --fail-on warning passes.
    common::wait_until("web-1 and web-2 gone", T, || {
        ns.kubectl(&["get", "pods", "-o", "name"]).stdout.trim() == "pod/web-0"
    });
    let st = status_agrees_with_prune(&ns, "web", &[]);
    assert_eq!(
        findings(&st, "pvc.kept")[0]["message"],
        "kept: HPA web may scale web up to 3 replicas (ordinals 0..2); prune-pvcs --ignore-autoscaler overrides: data-web-1, data-web-2"
    );
    let before = claims(&ns);
    ns.sts(&["prune-pvcs", "--yes"]).expect_code(0);
    assert_eq!(claims(&ns), before);
    let p = plan(&ns, &["--ignore-autoscaler"]);
    assert_eq!(names(&p["candidates"]), ["data-web-1", "data-web-2"]);
}

#[test]
fn annotated_and_mounted_claims_are_kept_in_status_too() {
    let ns = Ns::new("prune-kept");
    ns.apply(&common::web_yaml(&[("replicas: 3", "replicas: 4")]));
    ns.wait_sts_settled("web", T);
    wait_bound(&ns, 4);
    scale_to(&ns, "web", 1);
    ns.kubectl(&[
        "annotate",
        "pvc",
        "data-web-2",
        "kubectl-sts.io/prune=never",
    ])
    .expect_code(0);
    // A pod of no StatefulSet (outside the set's selector) mounts data-web-3.
    ns.apply(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: backup\n  labels:\n    app: backup\nspec:\n  containers:\n  - name: c\n    image: busybox:1\n  volumes:\n  - name: v\n    persistentVolumeClaim:\n      claimName: data-web-3\n",
    );
    let st = status_agrees_with_prune(&ns, "web", &[]);
    assert_eq!(
        findings(&st, "pvc.out_of_range")[0]["message"],
        "1 claim left behind by a scale-down (ordinal outside the live range 0..0): data-web-1"
    );
    let kept: Vec<&str> = findings(&st, "pvc.kept")
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        kept,
        [
            "kept: annotated kubectl-sts.io/prune=never: data-web-2",
            "kept: mounted by pod backup: data-web-3",
        ]
    );
    let t = ns.sts(&["status", "web"]).expect_code(0).stdout.clone();
    assert!(t.contains("kept: mounted by pod backup: data-web-3"), "{t}");

    // The real run: the closing counts add up to the plan.
    let r = ns.sts(&["prune-pvcs", "web", "-y"]);
    r.expect_code(0);
    assert!(
        r.stdout.contains("Skipped (2), never deleted:")
            && r.stdout.ends_with("1 deleted, 2 skipped, 0 failed\n"),
        "{}",
        r.stdout
    );
    // Only kept claims remain: status is clean for --fail-on warning.
    common::wait_until("data-web-1 gone", T, || {
        ns.kubectl(&["get", "pvc", "data-web-1"]).code != 0
    });
    let st = status_agrees_with_prune(&ns, "web", &[]);
    assert!(findings(&st, "pvc.out_of_range").is_empty());
    assert_eq!(findings(&st, "pvc.kept").len(), 2);
}

#[test]
fn when_scaled_delete_set_after_the_scale_down_strands_the_claims() {
    let ns = Ns::new("prune-stranded");
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", T);
    wait_bound(&ns, 3);
    scale_to(&ns, "web", 1);
    ns.kubectl(&[
        "patch",
        "statefulset",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Delete","whenDeleted":"Retain"}}}"#,
    ])
    .expect_code(0);
    ns.wait_sts_settled("web", T);
    // The controller only updates claims through pods that exist: the
    // stranded claims get no ownerReference, so nothing will delete them.
    for c in ["data-web-1", "data-web-2"] {
        assert!(
            ns.get("pvc", c)["metadata"]["ownerReferences"].is_null(),
            "{c} has an ownerReference"
        );
    }
    let p = plan(&ns, &[]);
    assert_eq!(names(&p["candidates"]), ["data-web-1", "data-web-2"]);
    assert_eq!(p["skipped"].as_array().unwrap().len(), 0);
    status_agrees_with_prune(&ns, "web", &[]);
    // Scaling up and down again under whenScaled: Delete gives the claim a
    // real ownerReference to its pod: the garbage collector deletes it.
    ns.kubectl(&["scale", "statefulset", "web", "--replicas=2"])
        .expect_code(0);
    ns.wait_sts_settled("web", T);
    scale_to(&ns, "web", 1);
    common::wait_until("data-web-1 deleted by the garbage collector", T, || {
        let r = ns.kubectl(&["get", "pvc", "data-web-1", "-o", "json"]);
        r.code != 0 || !r.json()["metadata"]["deletionTimestamp"].is_null()
    });
    let p = plan(&ns, &[]);
    assert_eq!(names(&p["candidates"]), ["data-web-2"]);
    status_agrees_with_prune(&ns, "web", &[]);
}

#[test]
fn two_templates_each_claim_in_its_own_template() {
    let ns = Ns::new("prune-pg");
    let yaml = common::web_yaml(&[
        ("replicas: 3", "replicas: 4"),
        (
            "        - name: data\n          mountPath: /usr/share/nginx/html\n",
            "        - name: data\n          mountPath: /usr/share/nginx/html\n        - name: wal\n          mountPath: /wal\n",
        ),
        (
            "  volumeClaimTemplates:\n",
            "  volumeClaimTemplates:\n  - metadata:\n      name: wal\n    spec:\n      accessModes: [\"ReadWriteOnce\"]\n      resources:\n        requests:\n          storage: 1Gi\n",
        ),
    ]);
    ns.apply(&yaml);
    ns.wait_sts_settled("web", T);
    wait_bound(&ns, 8);
    scale_to(&ns, "web", 1);
    ns.kubectl(&["delete", "pvc", "data-web-1", "wal-web-2", "--wait=true"])
        .expect_code(0);
    let p = plan(&ns, &[]);
    let got: Vec<(String, String, i64)> = p["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["claim"].as_str().unwrap().to_string(),
                c["template"].as_str().unwrap().to_string(),
                c["ordinal"].as_i64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, String, i64)> = [
        ("data-web-2", "data", 2),
        ("data-web-3", "data", 3),
        ("wal-web-1", "wal", 1),
        ("wal-web-3", "wal", 3),
    ]
    .iter()
    .map(|(c, t, o)| (c.to_string(), t.to_string(), *o))
    .collect();
    assert_eq!(got, want);
    let st = status_agrees_with_prune(&ns, "web", &[]);
    assert_eq!(
        findings(&st, "pvc.out_of_range")[0]["message"],
        "4 claims left behind by a scale-down (ordinals outside the live range 0..0): wal-web-1, data-web-2, data-web-3, wal-web-3"
    );
}

#[test]
fn retention_policy_delete_claims_are_left_to_the_controller() {
    let ns = Ns::new("prune-retention");
    let yaml = common::web_yaml(&[(
        "  replicas: 3\n",
        "  replicas: 3\n  persistentVolumeClaimRetentionPolicy:\n    whenDeleted: Delete\n    whenScaled: Retain\n",
    )]);
    scaled(&ns, &yaml, "web", 1);
    common::wait_until("claims owned by the StatefulSet", T, || {
        let v = ns.kubectl(&["get", "pvc", "-o", "json"]).json();
        v["items"].as_array().is_some_and(|a| {
            a.len() == 3
                && a.iter()
                    .all(|c| c["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet")
        })
    });
    let p = plan(&ns, &[]);
    assert_eq!(p["candidates"].as_array().unwrap().len(), 0);
    assert_eq!(names(&p["skipped"]), ["data-web-1", "data-web-2"]);
    let uid = ns.get("statefulset", "web")["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        p["skipped"][0]["reason"],
        format!("the garbage collector deletes it with statefulset web (uid {uid}), its owner"),
        "{}",
        p["skipped"][0]
    );
    common::wait_until("web-1 and web-2 gone", T, || {
        ns.kubectl(&["get", "pods", "-o", "name"]).stdout.trim() == "pod/web-0"
    });
    status_agrees_with_prune(&ns, "web", &[]);
    let before = claims(&ns);
    ns.sts(&["prune-pvcs", "--yes"]).expect_code(0);
    assert_eq!(claims(&ns), before);
}

#[test]
fn claim_name_fitting_two_statefulsets_needs_both_out_of_range() {
    let ns = Ns::new("prune-two-owners");
    // a (template b-c) and c-a (template b) both produce b-c-a-<n>.
    let set = |name: &str, tpl: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {name}\nspec:\n  serviceName: {name}\n  replicas: 3\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: c\n        image: busybox:1\n        volumeMounts:\n        - name: {tpl}\n          mountPath: /d\n  volumeClaimTemplates:\n  - metadata:\n      name: {tpl}\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources:\n        requests:\n          storage: 1Gi\n"
        )
    };
    ns.apply(&set("c-a", "b"));
    scaled(&ns, &set("a", "b-c"), "a", 1);
    ns.wait_sts_settled("c-a", T);
    // b-c-a-1 and b-c-a-2 are out of range for a but live for c-a.
    let p = plan(&ns, &[]);
    assert_eq!(p["candidates"].as_array().unwrap().len(), 0, "{p}");
    ns.kubectl(&["scale", "statefulset", "c-a", "--replicas=2"])
        .expect_code(0);
    ns.wait_sts_settled("c-a", T);
    let p = plan(&ns, &[]);
    assert_eq!(names(&p["candidates"]), ["b-c-a-2"]);
    assert_eq!(
        p["candidates"][0]["statefulsets"],
        serde_json::json!(["a", "c-a"])
    );
    let p = plan(&ns, &["a"]);
    assert_eq!(names(&p["candidates"]), ["b-c-a-2"]);
    ns.sts(&["prune-pvcs", "--yes"]).expect_code(0);
    assert_eq!(
        claims(&ns).iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["b-c-a-0", "b-c-a-1"]
    );
}

#[test]
fn claims_of_a_deleted_statefulset_only_with_include_deleted() {
    let ns = Ns::new("prune-deleted");
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", T);
    ns.kubectl(&["delete", "statefulset", "web", "--wait=true"])
        .expect_code(0);
    common::wait_until("web pods gone", T, || {
        ns.kubectl(&["get", "pods", "-l", "app=web", "-o", "name"])
            .stdout
            .trim()
            .is_empty()
    });
    let before = claims(&ns);
    assert_eq!(before.len(), 3);

    let p = plan(&ns, &[]);
    assert_eq!(p["candidates"].as_array().unwrap().len(), 0);
    assert_eq!(p["weakCandidates"].as_array().unwrap().len(), 0);
    let r = ns.sts(&["prune-pvcs", "web", "--dry-run"]);
    r.expect_code(3);
    assert!(
        r.stderr.starts_with("error: statefulset \"web\" not found"),
        "{}",
        r.stderr
    );

    let p = plan(&ns, &["web", "--include-deleted"]);
    assert_eq!(p["candidates"].as_array().unwrap().len(), 0);
    assert_eq!(
        names(&p["weakCandidates"]),
        ["data-web-0", "data-web-1", "data-web-2"]
    );
    for c in p["weakCandidates"].as_array().unwrap() {
        assert_eq!(c["evidence"], "deletedStatefulSet");
        assert_eq!(c["statefulsets"], serde_json::json!(["web"]));
        assert_eq!(c["template"], "data");
    }
    let t = ns
        .sts(&["prune-pvcs", "--include-deleted", "--dry-run"])
        .expect_code(0)
        .stdout
        .clone();
    assert!(t.contains("weaker evidence"), "{t}");
    let r = ns.sts(&["prune-pvcs", "--include-deleted", "--yes"]);
    r.expect_code(0);
    assert!(
        r.stdout.contains("3 deleted, 0 skipped, 0 failed"),
        "{}",
        r.stdout
    );
    assert!(claims(&ns).is_empty());
}

#[test]
fn usage_errors_exit_2() {
    let r = common::sts(&["prune-pvcs", "web", "-A"]);
    r.expect_code(2);
    assert!(
        r.stderr
            .starts_with("error: -A/--all-namespaces cannot be used with a NAME"),
        "{}",
        r.stderr
    );
    let r = common::sts(&["prune-pvcs", "--older-than", "soon"]);
    r.expect_code(2);
    assert!(
        r.stderr.starts_with("error: invalid --older-than \"soon\""),
        "{}",
        r.stderr
    );
}
