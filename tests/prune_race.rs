//! Seeded race test for `prune-pvcs`: at the binary's fault points
//! (after-plan, before-recheck, before-delete, after-delete) the test scales
//! the StatefulSet up over a planned claim or starts a pod that mounts it.
//! It also changes claims (labels) at those points.
//! Asserts: no claim that was in range or mounted at the binary's FINAL
//! re-read is ever deleted, no claim changed before its DELETE is deleted
//! (re-read or resourceVersion precondition), and every deletion whose ordinal came back into
//! range afterwards is reported (and makes the exit code 1).
//!
//! Reproduce with PRUNE_RACE_SEED=<seed>; PRUNE_RACE_ROUNDS sets the rounds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use common::Ns;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const STS: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: race
spec:
  serviceName: race
  replicas: 1
  podManagementPolicy: OrderedReady
  selector:
    matchLabels:
      app: race
  template:
    metadata:
      labels:
        app: race
    spec:
      containers:
      - name: c
        image: example.invalid/not-ready:1
        volumeMounts:
        - name: data
          mountPath: /d
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: \"\"
      resources:
        requests:
          storage: 1Gi
";

async fn settled(sets: &Api<StatefulSet>, replicas: i32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = sets.get("race").await.unwrap();
        let st = s.status.clone().unwrap_or_default();
        if s.spec.as_ref().and_then(|x| x.replicas) == Some(replicas)
            && st.replicas == replicas
            && st.observed_generation == s.metadata.generation
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "race StatefulSet did not settle at {replicas}: {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn scale(sets: &Api<StatefulSet>, replicas: i32) {
    sets.patch(
        "race",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": replicas}})),
    )
    .await
    .unwrap();
}

fn claim_name(ord: i32) -> String {
    format!("data-race-{ord}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn race_scale_ups_and_mounts_injected_at_fault_points() {
    let ns = Ns::new("prune-race");
    ns.apply(STS);
    let kc = kube::config::Kubeconfig::read_from(&common::env().kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(cfg).unwrap();
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns.name);
    settled(&sets, 1).await;

    let seed: u64 = std::env::var("PRUNE_RACE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    let rounds: i32 = std::env::var("PRUNE_RACE_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    println!("prune race: seed {seed} (reproduce with PRUNE_RACE_SEED={seed}), {rounds} rounds");
    let mut rng = Rng(seed);
    let dir = tempdir(&ns.name);
    let started = Instant::now();
    let (
        mut deleted_total,
        mut protected_total,
        mut back_total,
        mut touched_total,
        mut precondition_total,
    ) = (0, 0, 0, 0, 0);

    for round in 0..rounds {
        let ords = [10 + 2 * round, 11 + 2 * round];
        for o in ords {
            let pvc: PersistentVolumeClaim = serde_json::from_value(json!({
                "metadata": {"name": claim_name(o), "labels": {"app": "race"}},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "resources": {"requests": {"storage": "1Gi"}}}
            }))
            .unwrap();
            claims.create(&PostParams::default(), &pvc).await.unwrap();
        }
        settled(&sets, 1).await;
        let rdir = dir.join(format!("r{round}"));
        std::fs::create_dir_all(&rdir).unwrap();
        let mut child = std::process::Command::new(common::bin())
            .args(["prune-pvcs", "race", "--yes", "-o", "json", "-n", &ns.name])
            .env("KUBECONFIG", &common::env().kubeconfig)
            .env("KUBECTL_STS_TEST_FAULT", &rdir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();

        // What the test has done so far in this round.
        let mut replicas = 1;
        let mut mounted: BTreeSet<String> = BTreeSet::new();
        // Per claim: protected (in range or mounted) at its final re-read.
        let mut at_final: BTreeMap<String, bool> = BTreeMap::new();
        // Per claim: in range when the binary re-read after its DELETE.
        let mut back_at_post: BTreeMap<String, bool> = BTreeMap::new();
        // Claims changed (labels) before their DELETE was sent: the
        // resourceVersion precondition or the re-read must stop the DELETE.
        let mut touched: BTreeSet<String> = BTreeSet::new();
        let mut past_delete: BTreeSet<String> = BTreeSet::new();
        let mut seq = 0;
        let mut log = Vec::new();
        loop {
            let point_file = std::fs::read_dir(&rdir)
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| n.starts_with(&format!("{seq:04}-")) && !n.contains('.'));
            let Some(f) = point_file else {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            };
            let point = f.split_once('-').unwrap().1.to_string();
            let claim = std::fs::read_to_string(rdir.join(&f)).unwrap();
            // Act in the window: 0 nothing, 1 scale up over a claim,
            // 2 mount a claim, 3 change a claim.
            // Mostly the claim at hand, sometimes the other one.
            // Every 10th round is fixed: each claim changes exactly between its
            // final re-check and its DELETE, so the precondition must stop it.
            let fixed = round % 10 == 0;
            let own = claim
                .rsplit_once('-')
                .and_then(|(_, o)| o.parse::<i32>().ok());
            let target = match own {
                Some(o) if fixed || rng.below(4) < 3 => o,
                _ => ords[rng.below(2) as usize],
            };
            let action = if fixed {
                if point == "before-delete" { 3 } else { 0 }
            } else {
                rng.below(4)
            };
            match action {
                1 => {
                    replicas = replicas.max(target + 1);
                    scale(&sets, replicas).await;
                    log.push(format!("{point}({claim}): scale to {replicas}"));
                }
                2 => {
                    let name = format!("m-{round}-{seq}");
                    let pod: Pod = serde_json::from_value(json!({
                        "metadata": {"name": name},
                        "spec": {"containers": [{"name": "c", "image": "busybox:1"}],
                                 "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim_name(target)}}]}
                    }))
                    .unwrap();
                    pods.create(&PostParams::default(), &pod).await.unwrap();
                    mounted.insert(claim_name(target));
                    log.push(format!(
                        "{point}({claim}): pod {name} mounts {}",
                        claim_name(target)
                    ));
                }
                3 => {
                    let patch = json!({"metadata": {"labels": {"touched": format!("s{seq}")}}});
                    // A claim we already deleted may be gone (404); that is no change.
                    let patched = match claims
                        .patch(
                            &claim_name(target),
                            &PatchParams::default(),
                            &Patch::Merge(patch),
                        )
                        .await
                    {
                        Ok(_) => true,
                        Err(kube::Error::Api(s))
                            if s.code == 404 && past_delete.contains(&claim_name(target)) =>
                        {
                            false
                        }
                        Err(e) => panic!("patch {}: {e}", claim_name(target)),
                    };
                    if patched && !past_delete.contains(&claim_name(target)) {
                        touched.insert(claim_name(target));
                    }
                    log.push(format!("{point}({claim}): label {}", claim_name(target)));
                }
                _ => log.push(format!("{point}({claim}): nothing")),
            }
            let ord_of = |c: &str| c.rsplit_once('-').unwrap().1.parse::<i32>().unwrap();
            if point == "before-recheck" {
                at_final.insert(
                    claim.clone(),
                    ord_of(&claim) < replicas || mounted.contains(&claim),
                );
            }
            if point == "before-delete" {
                past_delete.insert(claim.clone());
            }
            if point == "after-delete" {
                back_at_post.insert(claim.clone(), ord_of(&claim) < replicas);
            }
            std::fs::write(rdir.join(format!("{f}.go")), "").unwrap();
            seq += 1;
        }
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let ctx = format!(
            "round {round} seed {seed}\nactions: {log:#?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {ctx}"));
        assert_eq!(doc["candidates"].as_array().map(Vec::len), Some(2), "{ctx}");
        let results = doc["results"]
            .as_array()
            .unwrap_or_else(|| panic!("no results: {ctx}"));
        assert_eq!(results.len(), 2, "{ctx}");
        let mut bad = false;
        for r in results {
            let c = r["claim"].as_str().unwrap().to_string();
            let protected = *at_final
                .get(&c)
                .unwrap_or_else(|| panic!("no final re-read for {c}: {ctx}"));
            let live = claims.get_opt(&c).await.unwrap();
            let still_there = live
                .as_ref()
                .is_some_and(|p| p.metadata.deletion_timestamp.is_none());
            if protected {
                protected_total += 1;
                assert_eq!(
                    r["result"], "skipped",
                    "{c} was protected at the final re-read: {ctx}"
                );
                assert!(
                    still_there,
                    "{c} was protected at the final re-read but is deleted: {ctx}"
                );
            }
            if touched.contains(&c) {
                touched_total += 1;
                assert_eq!(
                    r["result"], "skipped",
                    "{c} changed before its DELETE: {ctx}"
                );
                assert!(
                    still_there,
                    "{c} changed before its DELETE but is deleted: {ctx}"
                );
                if r["reason"]
                    .as_str()
                    .unwrap_or("")
                    .contains("precondition failed")
                {
                    precondition_total += 1;
                }
            }
            if r["result"] == "deleted" {
                deleted_total += 1;
                assert!(!still_there, "{c} reported deleted but still there: {ctx}");
                let back = back_at_post.get(&c).copied().unwrap_or(false);
                assert_eq!(
                    r["cameBackInRange"].is_string(),
                    back,
                    "{c}: came-back report mismatch: {ctx}"
                );
                if back {
                    back_total += 1;
                }
            } else {
                assert!(still_there, "{c} not deleted by us but gone: {ctx}");
            }
            bad |= r["result"] != "deleted" || r["cameBackInRange"].is_string();
        }
        assert_eq!(out.status.code(), Some(if bad { 1 } else { 0 }), "{ctx}");

        // Clean up for the next round.
        if replicas != 1 {
            scale(&sets, 1).await;
        }
        for s in 0..seq {
            let _ = pods
                .delete(
                    &format!("m-{round}-{s}"),
                    &DeleteParams {
                        grace_period_seconds: Some(0),
                        ..DeleteParams::default()
                    },
                )
                .await;
        }
        for o in ords {
            let _ = claims
                .delete(&claim_name(o), &DeleteParams::default())
                .await;
        }
    }
    let per_round = started.elapsed().as_millis() / rounds.max(1) as u128;
    println!(
        "prune race: {rounds} rounds in {:.1}s ({per_round} ms/round): {deleted_total} deleted, {protected_total} protected at the final re-read and kept, {touched_total} changed before their DELETE and kept ({precondition_total} stopped by the DELETE precondition), {back_total} came back into range and were reported",
        started.elapsed().as_secs_f64()
    );
    if rounds >= 50 {
        assert!(
            deleted_total > 0
                && protected_total > 0
                && back_total > 0
                && touched_total > 0
                && precondition_total > 0,
            "the rounds did not exercise every branch (seed {seed})"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("kubectl-sts-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    assert!(Path::new(&d).is_dir());
    d
}
