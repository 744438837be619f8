//! Crash consistency: the plugin is killed (SIGKILL) right after the k-th
//! event of its `-o json` stream, for every k of a full canary and of an
//! abort; the next run (resume, or abort) must always end consistent: every
//! pod Ready on one revision, the partition back at the floor, no state left.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Ns;
use serde_json::Value;

const T: Duration = Duration::from_secs(240);
const NEW: &str = "nginx=nginx:1.26";

/// Runs the plugin with `-o json` and kills it after `k` events; returns the
/// events seen and whether it was killed (false: it ended on its own first).
fn run_and_kill_after(ns: &Ns, args: &[&str], k: usize) -> (Vec<Value>, bool) {
    let mut child = Command::new(common::bin())
        .env("KUBECONFIG", &common::env().kubeconfig)
        .args(args)
        .args(["-o", "json", "-n", &ns.name])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut events = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while events.len() < k {
        match lines.next() {
            Some(Ok(l)) => events.push(
                serde_json::from_str::<Value>(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")),
            ),
            _ => break,
        }
    }
    let killed = events.len() == k && child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    (events, killed)
}

/// Every pod Ready on `rev`, partition 0, no canary state, settled.
fn consistent_on(ns: &Ns, rev_is_new: bool, old_rev: &str) {
    let s = ns.wait_sts_settled("web", T);
    assert!(
        s["metadata"]["annotations"]["kubectl-sts.io/canary"].is_null(),
        "state left behind: {s}"
    );
    assert_eq!(
        s["spec"]["updateStrategy"]["rollingUpdate"]["partition"]
            .as_i64()
            .unwrap_or(0),
        0,
        "{s}"
    );
    let update = s["status"]["updateRevision"].as_str().unwrap().to_string();
    assert_eq!(
        update == old_rev,
        !rev_is_new,
        "update revision {update}, old {old_rev}"
    );
    let pods = ns
        .kubectl(&["get", "pods", "-l", "app=web", "-o", "json"])
        .json();
    let items: Vec<&Value> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    assert_eq!(items.len(), 3);
    for p in items {
        assert_eq!(
            p["metadata"]["labels"]["controller-revision-hash"].as_str(),
            Some(update.as_str()),
            "{}",
            p["metadata"]["name"]
        );
    }
}

fn fresh(k: usize, what: &str) -> (Ns, String) {
    let ns = Ns::new(&format!("kill-{what}-{k}"));
    ns.apply(&common::web_yaml(&[]));
    let s = ns.wait_sts_settled("web", T);
    (
        ns,
        s["status"]["updateRevision"].as_str().unwrap().to_string(),
    )
}

/// The number of events a full `--auto` canary emits, from one clean run.
fn full_run_events() -> usize {
    let (ns, old) = fresh(0, "count");
    let r = ns.sts(&[
        "canary", "web", "--image", NEW, "--auto", "--soak", "1s", "-o", "json",
    ]);
    r.expect_code(0);
    consistent_on(&ns, true, &old);
    r.stdout.lines().count()
}

#[test]
fn killed_after_every_event_then_resume_or_abort_ends_consistent() {
    let n = full_run_events();
    assert!(
        n >= 8,
        "a full canary should emit at least 8 events, got {n}"
    );
    // Five canaries at a time: the shared control plane serves every other
    // test too, and 1.36 controllers slow down under a burst of writes.
    let ks: Vec<usize> = (1..n).collect();
    let results: Vec<String> = ks.chunks(5).flat_map(|chunk| std::thread::scope(|scope| {
        let handles: Vec<_> = chunk.iter().copied()
            .map(|k| {
                scope.spawn(move || {
                    let (ns, old) = fresh(k, "canary");
                    let (ev, killed) = run_and_kill_after(&ns, &["canary", "web", "--image", NEW, "--auto", "--soak", "1s"], k);
                    // Only right before the last event may it win the race and end first.
                    assert!(killed || k + 1 >= n, "k={k}: the canary ended before event {k}: {ev:?}");
                    let last = ev.last().map(|e| e["event"].as_str().unwrap_or("").to_string()).unwrap_or_default();
                    let state_left = !ns.get("statefulset", "web")["metadata"]["annotations"]["kubectl-sts.io/canary"].is_null();
                    if !state_left {
                        // Killed between clearing the state and printing `done`:
                        // the canary had finished; nothing to resume or abort.
                        consistent_on(&ns, true, &old);
                        format!("k={k} (after {last}): had already finished")
                    } else if k % 2 == 0 {
                        // Resume to completion.
                        let r = ns.sts(&["canary", "web", "--auto", "--soak", "0s"]);
                        r.expect_code(0);
                        consistent_on(&ns, true, &old);
                        format!("k={k} (after {last}): resumed to done")
                    } else {
                        // Abort; when the kill came before the first write
                        // there is no canary to abort (exit 4), and nothing changed.
                        let r = ns.sts(&["canary", "web", "--abort", "--yes"]);
                        assert!(r.code == 1 || r.code == 4, "k={k}: abort exit {}:\n{}", r.code, r.stderr);
                        consistent_on(&ns, false, &old);
                        format!("k={k} (after {last}): aborted (exit {})", r.code)
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect::<Vec<String>>()
    })).collect();
    for r in &results {
        println!("{r}");
    }
    assert_eq!(results.len(), n - 1);
}

#[test]
fn abort_killed_after_every_event_then_abort_again_ends_consistent() {
    // Count the abort's events once.
    let (ns0, old0) = fresh(0, "abortcount");
    ns0.sts(&["canary", "web", "--image", NEW, "--yes", "--soak", "0s"])
        .expect_code(5);
    let r = ns0.sts(&["canary", "web", "--abort", "--yes", "-o", "json"]);
    r.expect_code(1);
    consistent_on(&ns0, false, &old0);
    let n = r.stdout.lines().count();
    assert!(n >= 2, "an abort should emit at least 2 events, got {n}");
    let results: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..n)
            .map(|k| {
                scope.spawn(move || {
                    let (ns, old) = fresh(k, "abort");
                    ns.sts(&["canary", "web", "--image", NEW, "--yes", "--soak", "0s"])
                        .expect_code(5);
                    let (ev, _) =
                        run_and_kill_after(&ns, &["canary", "web", "--abort", "--yes"], k);
                    let r = ns.sts(&["canary", "web", "--abort", "--yes"]);
                    assert!(
                        r.code == 1 || r.code == 4,
                        "k={k}: second abort exit {}:\n{}",
                        r.code,
                        r.stderr
                    );
                    consistent_on(&ns, false, &old);
                    format!(
                        "k={k} (after {:?}): abort finished (exit {})",
                        ev.last().map(|e| e["event"].clone()),
                        r.code
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &results {
        println!("{r}");
    }
}
