//! SIGTERM at exact points of `canary` and `prune-pvcs` (the binary's test
//! fault points hold it there while the signal lands): before the first
//! write nothing changes; after it, the command stops at its next safe
//! point with exit 130, says where the object stands, and a re-run
//! finishes from there. No half-applied change in any case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Ns;
use serde_json::Value;

const T: Duration = Duration::from_secs(240);

fn fault_dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "kubectl-sts-interrupts-{}-{test}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn spawn(ns: &Ns, dir: &Path, args: &[&str]) -> Child {
    Command::new(common::bin())
        .env("KUBECONFIG", &common::env().kubeconfig)
        .env("KUBECTL_STS_TEST_FAULT", dir)
        .args(args)
        .args(["-n", &ns.name])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Releases every fault point of `child`; at the `nth` (1-based) point named
/// `point`, sends SIGTERM first. Returns (exit code, stdout, stderr) and
/// whether the signal was sent.
fn run_with_sigterm_at(
    mut child: Child,
    dir: &Path,
    point: &str,
    nth: usize,
) -> (i32, String, String, bool) {
    let mut seen = 0;
    let mut sent = false;
    let mut handled = std::collections::BTreeSet::new();
    let deadline = Instant::now() + T;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the command did not finish");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| !n.contains('.'))
            .collect();
        names.sort();
        for n in names {
            if !handled.insert(n.clone()) {
                continue;
            }
            if n.ends_with(point) {
                seen += 1;
                if seen == nth {
                    let ok = Command::new("kill")
                        .args(["-TERM", &child.id().to_string()])
                        .status()
                        .unwrap();
                    assert!(ok.success());
                    // kill(1) has returned: the signal is pending, and the
                    // binary's handler sets its flag before the binary runs
                    // another instruction of its own, so before it can see
                    // the .go file.
                    sent = true;
                }
            }
            std::fs::write(dir.join(format!("{n}.go")), "").unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        sent,
    )
}

fn setup(test: &str) -> (Ns, Value) {
    let ns = Ns::new(test);
    ns.apply(&common::web_yaml(&[]));
    let s = ns.wait_sts_settled("web", T);
    (ns, s)
}

fn revision_of(ns: &Ns, pod: &str) -> String {
    ns.get("pod", pod)["metadata"]["labels"]["controller-revision-hash"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

fn state_of(s: &Value) -> Option<Value> {
    s["metadata"]["annotations"]["kubectl-sts.io/canary"]
        .as_str()
        .map(|t| serde_json::from_str(t).unwrap())
}

/// Every pod Ready on the update revision, partition 0, no canary state.
fn finished_on(ns: &Ns, image: &str) {
    let s = ns.wait_sts_settled("web", T);
    assert!(state_of(&s).is_none(), "state left behind: {s}");
    assert_eq!(
        s["spec"]["updateStrategy"]["rollingUpdate"]["partition"]
            .as_i64()
            .unwrap_or(0),
        0
    );
    assert_eq!(
        s["spec"]["template"]["spec"]["containers"][0]["image"],
        image
    );
    let rev = s["status"]["updateRevision"].as_str().unwrap().to_string();
    for p in ["web-0", "web-1", "web-2"] {
        assert_eq!(revision_of(ns, p), rev, "{p}");
    }
}

/// A signal before the first write ends the command at once; the
/// StatefulSet is untouched.
#[test]
fn sigterm_before_the_start_patch_changes_nothing() {
    let (ns, s) = setup("int-start");
    let dir = fault_dir("start");
    let child = spawn(
        &ns,
        &dir,
        &["canary", "web", "--image", "nginx=nginx:1.26", "--auto"],
    );
    let (code, _out, err, sent) = run_with_sigterm_at(child, &dir, "canary-before-start", 1);
    assert!(sent, "the start fault point was never reached: {err}");
    assert_eq!(code, 130, "{err}");
    assert_eq!(err.trim_end(), "note: interrupted; nothing was changed");
    let now = ns.get("statefulset", "web");
    assert_eq!(
        now["metadata"]["resourceVersion"],
        s["metadata"]["resourceVersion"]
    );
    assert!(state_of(&now).is_none());
}

/// A signal between two steps: the next step's patch is never sent; the
/// state says step 1 of 3 is done at partition 2; a re-run finishes.
#[test]
fn sigterm_between_steps_stops_before_the_next_patch_then_resumes() {
    let (ns, s) = setup("int-step");
    let from = s["status"]["updateRevision"].as_str().unwrap().to_string();
    let dir = fault_dir("step");
    let child = spawn(
        &ns,
        &dir,
        &[
            "canary",
            "web",
            "--image",
            "nginx=nginx:1.26",
            "--auto",
            "--soak",
            "0",
            "-o",
            "json",
        ],
    );
    // The first canary-before-step is step 1's patch, the second step 2's.
    let (code, out, err, sent) = run_with_sigterm_at(child, &dir, "canary-before-step", 2);
    assert!(sent, "step 2 was never reached:\n{out}\n{err}");
    assert_eq!(code, 130, "{out}\n{err}");
    let ev = events(&out);
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "interrupted", "{out}");
    assert_eq!(
        last["state"],
        "step 2/3 not started; the partition is still 2"
    );
    assert_eq!(last["aborting"], false);
    assert!(
        err.contains("the StatefulSet is left consistent: step 2/3 not started")
            && err.contains(&format!(
                "resume with: kubectl sts canary web -n {}",
                ns.name
            )),
        "{err}"
    );
    let now = ns.get("statefulset", "web");
    assert_eq!(
        now["spec"]["updateStrategy"]["rollingUpdate"]["partition"],
        2
    );
    let st = state_of(&now).expect("the canary state is kept");
    assert_eq!(st["phase"], "running");
    let to = now["status"]["updateRevision"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(to, from);
    assert_eq!(revision_of(&ns, "web-2"), to);
    assert_eq!(revision_of(&ns, "web-1"), from);
    assert_eq!(revision_of(&ns, "web-0"), from);

    let r = ns.sts(&["canary", "web", "--auto", "--soak", "0"]);
    r.expect_code(0);
    assert!(r.stdout.contains("resuming"), "{}", r.stdout);
    finished_on(&ns, "nginx:1.26");
}

/// A signal after the abort patch: the roll-back is recorded (phase
/// aborting, template restored); a re-run finishes it.
#[test]
fn sigterm_during_an_abort_then_finish_it() {
    let (ns, s) = setup("int-abort");
    let from = s["status"]["updateRevision"].as_str().unwrap().to_string();
    // Without a terminal and without --auto the first step runs, then the
    // canary pauses (exit 5).
    ns.sts(&[
        "canary",
        "web",
        "--image",
        "nginx=nginx:1.26",
        "--yes",
        "--soak",
        "0",
    ])
    .expect_code(5);
    let dir = fault_dir("abort");
    let child = spawn(
        &ns,
        &dir,
        &["canary", "web", "--abort", "--yes", "-o", "json"],
    );
    let (code, out, err, sent) = run_with_sigterm_at(child, &dir, "canary-abort-applied", 1);
    assert!(
        sent,
        "the abort fault point was never reached:\n{out}\n{err}"
    );
    assert_eq!(code, 130, "{out}\n{err}");
    let last = events(&out).last().cloned().unwrap();
    assert_eq!(last["event"], "interrupted", "{out}");
    assert_eq!(last["aborting"], true);
    assert!(
        err.contains(&format!(
            "finish the roll-back with: kubectl sts canary web -n {} --abort",
            ns.name
        )),
        "{err}"
    );
    let now = ns.get("statefulset", "web");
    assert_eq!(state_of(&now).unwrap()["phase"], "aborting");
    assert_eq!(
        now["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    assert_eq!(
        now["spec"]["updateStrategy"]["rollingUpdate"]["partition"],
        0
    );

    let r = ns.sts(&["canary", "web"]);
    r.expect_code(1);
    assert!(
        r.stdout.contains("an abort was interrupted; finishing it"),
        "{}",
        r.stdout
    );
    finished_on(&ns, "nginx:1.25");
    assert_eq!(revision_of(&ns, "web-2"), from);
}

/// A signal while prune-pvcs deletes: the claim in flight is finished, the
/// others are left; the report says which.
#[test]
fn sigterm_between_claims_stops_prune_pvcs() {
    let ns = Ns::new("int-prune");
    ns.apply(&common::web_yaml(&[(
        "replicas: 3",
        "replicas: 3\n  podManagementPolicy: Parallel",
    )]));
    ns.wait_sts_settled("web", T);
    ns.kubectl(&["scale", "statefulset", "web", "--replicas=0"])
        .expect_code(0);
    common::wait_until("web scaled to 0", T, || {
        ns.kubectl(&["get", "pods", "-o", "name"])
            .stdout
            .trim()
            .is_empty()
    });
    ns.wait_sts_settled("web", T);
    let dir = fault_dir("prune");
    let child = spawn(
        &ns,
        &dir,
        &["prune-pvcs", "web", "--yes", "--include-scaled-to-zero"],
    );
    // The first claim's re-check: the signal lands, the claim goes on.
    let (code, out, err, sent) = run_with_sigterm_at(child, &dir, "before-recheck", 1);
    assert!(sent, "no claim was re-checked:\n{out}\n{err}");
    assert_eq!(code, 130, "{out}\n{err}");
    assert!(
        out.contains("1 deleted, 2 skipped, 0 failed"),
        "{out}\n{err}"
    );
    assert_eq!(out.matches("not deleted: interrupted").count(), 2, "{out}");
    assert!(
        err.contains(
            "interrupted: the claims listed as deleted are gone, the others are untouched"
        ),
        "{err}"
    );
    let left = || {
        ns.kubectl(&["get", "pvc", "-o", "name"])
            .expect_code(0)
            .stdout
            .lines()
            .count()
    };
    common::wait_until("the deleted claim gone", T, || left() == 2);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(left(), 2, "exactly one claim was deleted");
    let _ = std::fs::remove_dir_all(&dir);
}
