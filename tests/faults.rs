//! Faults on a PRIVATE sandbox each (restarting components would break
//! other tests): kube-apiserver is restarted
//! 1. while `status --watch` runs: the watch reconnects and shows a change
//!    made after the restart (the deleted governing Service, which involves
//!    no controller);
//! 2. while `canary` waits for its canary pod: the canary's watches and the
//!    controller reconnect, the step completes after the restart and the
//!    canary finishes (exit 0, partition 0, every pod on the new revision);
//!
//! and kube-scheduler is killed: the sandbox restarts it, as a kubelet
//! would, and a new pod gets scheduled. The tests take turns (one private
//! sandbox at a time).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn kubectl(kc: &str, args: &[&str]) -> (i32, String) {
    let o = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

fn wait(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn settled(kc: &str, replicas: i64) -> bool {
    let (code, out) = kubectl(kc, &["get", "sts", "web", "-n", "faults", "-o", "json"]);
    if code != 0 {
        return false;
    }
    let s: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    s["status"]["observedGeneration"] == s["metadata"]["generation"]
        && s["status"]["readyReplicas"].as_i64() == Some(replicas)
        && s["status"]["updatedReplicas"].as_i64() == Some(replicas)
}

/// One private sandbox at a time, whatever --test-threads says.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A private sandbox (2 workers) with StatefulSet `web` settled in
/// namespace `faults`; returns it, its admin kubeconfig and its directory.
async fn sandbox_with_web(test: &str) -> (sts_sandbox::Sandbox, String, std::path::PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("kubectl-sts-faults-{test}-{}", std::process::id()));
    let mut opts = sts_sandbox::Options::new(&dir)
        .expect("STS_SANDBOX_BINS must name the sandbox binaries (scripts/test sets it)");
    opts.workers = 2;
    let sb = sts_sandbox::Sandbox::start(opts)
        .await
        .expect("private sandbox");
    let kc = sb.kubeconfig().display().to_string();
    kubectl(&kc, &["create", "namespace", "faults"]);
    wait("default ServiceAccount", Duration::from_secs(60), || {
        kubectl(&kc, &["get", "sa", "default", "-n", "faults"]).0 == 0
    });
    let yaml = include_str!("../fixtures/web.yaml");
    let mut child = Command::new("kubectl")
        .args(["--kubeconfig", &kc, "apply", "-n", "faults", "-f", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), yaml.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    wait("web settled", Duration::from_secs(120), || settled(&kc, 3));
    (sb, kc, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiserver_restart_during_status_watch() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (mut sb, kc, dir) = sandbox_with_web("watch").await;

    // 1. status --watch survives an API server restart and shows later changes.
    let mut watch = Command::new(env!("CARGO_BIN_EXE_kubectl-sts"))
        .args([
            "status",
            "web",
            "--watch",
            "-o",
            "json",
            "-n",
            "faults",
            "--kubeconfig",
            &kc,
        ])
        .env("KUBECTL_STS_WATCH_FOR", "90s")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["header"]["replicas"], 3);
    sb.restart_apiserver(Duration::from_secs(2))
        .await
        .expect("apiserver restart");
    // A change that needs no controller: only a reconnected watch can show it.
    let (code, out) = kubectl(
        &kc,
        &["delete", "service", "nginx-headless", "-n", "faults"],
    );
    assert_eq!(code, 0, "{out}");
    let saw = tokio::task::spawn_blocking(move || {
        for l in lines.map_while(Result::ok) {
            let v: Value = serde_json::from_str(&l).unwrap();
            if v["header"]["serviceVerdict"] == "missing" {
                return true;
            }
        }
        false
    });
    let saw = tokio::time::timeout(Duration::from_secs(80), saw)
        .await
        .expect("the watch showed the deleted Service after the restart")
        .unwrap();
    assert!(saw, "the watch ended without showing the deleted Service");
    let _ = watch.kill();
    let _ = watch.wait();
    sb.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

fn sts_json(kc: &str) -> Value {
    let (code, out) = kubectl(kc, &["get", "sts", "web", "-n", "faults", "-o", "json"]);
    assert_eq!(code, 0, "{out}");
    serde_json::from_str(&out).unwrap()
}

/// The pods of web: (name, controller-revision-hash, Ready, terminating).
fn pods(kc: &str) -> Vec<(String, String, bool, bool)> {
    let (code, out) = kubectl(
        kc,
        &["get", "pods", "-l", "app=web", "-n", "faults", "-o", "json"],
    );
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["metadata"]["labels"]["controller-revision-hash"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                p["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                }),
                !p["metadata"]["deletionTimestamp"].is_null(),
            )
        })
        .collect()
}

/// 2. A canary waiting for its first step survives an API server restart:
/// web-2 is held terminating by a finalizer until after the restart, so the
/// step can only complete once both the controller and the canary's watches
/// have reconnected; then the canary runs its last step and finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiserver_restart_during_canary_wait() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let t0 = Instant::now();
    let (mut sb, kc, dir) = sandbox_with_web("canary").await;
    let from = sts_json(&kc)["status"]["updateRevision"]
        .as_str()
        .unwrap()
        .to_string();
    const HOLD: &str = "kubectl-sts.test/hold";
    let (code, out) = kubectl(
        &kc,
        &[
            "patch",
            "pod",
            "web-2",
            "-n",
            "faults",
            "--type=merge",
            "-p",
            &format!(r#"{{"metadata":{{"finalizers":["{HOLD}"]}}}}"#),
        ],
    );
    assert_eq!(code, 0, "{out}");

    let mut canary = Command::new(env!("CARGO_BIN_EXE_kubectl-sts"))
        .args([
            "canary",
            "web",
            "--image",
            "nginx=nginx:1.26",
            "--steps",
            "1,100%",
            "--auto",
            "--soak",
            "1s",
            "--timeout",
            "150s",
            "-o",
            "json",
            "-n",
            "faults",
            "--kubeconfig",
            &kc,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Events as they arrive, one JSON object per line.
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    let stdout = canary.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            let v: Value =
                serde_json::from_str(&l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"));
            let _ = tx.send(v);
        }
    });
    let mut before = Vec::new();
    let end = Instant::now() + Duration::from_secs(60);
    while !before
        .iter()
        .any(|e: &Value| e["event"] == "step-started" && e["step"] == 1)
    {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(v) => before.push(v),
            Err(e) => panic!("no step-started event ({e}); events so far: {before:?}"),
        }
    }
    assert_eq!(before.last().unwrap()["partition"], 2);
    // The controller has started the step: web-2 is terminating, held.
    wait("web-2 terminating", Duration::from_secs(60), || {
        pods(&kc).iter().any(|p| p.0 == "web-2" && p.3)
    });
    assert!(
        canary.try_wait().unwrap().is_none(),
        "the canary ended before the restart; events: {before:?}"
    );

    let restart = Instant::now();
    sb.restart_apiserver(Duration::from_secs(2))
        .await
        .expect("apiserver restart");
    let restart_secs = restart.elapsed().as_secs_f64();
    // Whatever the canary reported while the API server was away.
    before.extend(rx.try_iter());
    assert!(
        !before
            .iter()
            .any(|e| e["event"] == "step-complete" || e["pod"] == "web-2"),
        "web-2 was replaced before the restart: {before:?}"
    );
    // Release web-2: only now can the controller replace it.
    let (code, out) = kubectl(
        &kc,
        &[
            "patch",
            "pod",
            "web-2",
            "-n",
            "faults",
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        ],
    );
    assert_eq!(code, 0, "{out}");
    let released = Instant::now();

    let status = tokio::task::spawn_blocking(move || {
        let end = Instant::now() + Duration::from_secs(150);
        loop {
            if let Some(st) = canary.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(&mut canary.stderr.take().unwrap(), &mut err)
                    .unwrap();
                return (st.code(), err);
            }
            if Instant::now() > end {
                let _ = canary.kill();
                let _ = canary.wait();
                return (None, "killed: the canary did not finish within 150s".into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .await
    .unwrap();
    reader.join().unwrap();
    let after: Vec<Value> = rx.try_iter().collect();
    let restarts = sb.restarts();
    eprintln!(
        "restart took {restart_secs:.1}s; canary finished {:.1}s after web-2 was released; test {:.1}s; components restarted: {restarts:?}",
        released.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(
        status.0,
        Some(0),
        "canary exit; stderr:\n{}\nevents before the restart: {before:?}\nafter: {after:?}\ncomponents restarted: {restarts:?}\nlogs in {}",
        status.1,
        dir.display()
    );

    // Everything that completes the canary happened after the restart.
    let kinds: Vec<(&str, &Value)> = after
        .iter()
        .map(|e| (e["event"].as_str().unwrap(), &e["step"]))
        .collect();
    let pos = |kind: &str, step: i64| {
        after
            .iter()
            .position(|e| e["event"] == kind && (step == 0 || e["step"] == step))
            .unwrap_or_else(|| panic!("no {kind} {step} after the restart: {kinds:?}"))
    };
    let updated2 = after
        .iter()
        .position(|e| e["event"] == "pod-updated" && e["pod"] == "web-2")
        .unwrap_or_else(|| panic!("web-2 never reported updated after the restart: {kinds:?}"));
    let ready2 = after
        .iter()
        .position(|e| e["event"] == "pod-ready" && e["pod"] == "web-2")
        .unwrap_or_else(|| panic!("web-2 never reported Ready after the restart: {kinds:?}"));
    assert!(updated2 <= ready2 && ready2 < pos("step-complete", 1));
    assert!(pos("step-complete", 1) < pos("step-started", 2));
    assert_eq!(after[pos("step-started", 2)]["partition"], 0);
    assert!(pos("step-started", 2) < pos("step-complete", 2));
    assert!(pos("step-complete", 2) < pos("done", 0));
    let done = &after[pos("done", 0)];
    let to = done["to"].as_str().unwrap().to_string();
    assert_ne!(to, from);
    assert_eq!(done["from"], from.as_str());
    assert_eq!(done["currentRevision"], to.as_str());

    // The cluster agrees: partition 0, every pod on the new revision and Ready.
    let s = sts_json(&kc);
    assert_eq!(s["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 0);
    assert_eq!(s["status"]["updateRevision"], to.as_str());
    assert_eq!(s["status"]["currentRevision"], to.as_str());
    assert_eq!(
        s["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.26"
    );
    assert!(
        s["metadata"]["annotations"]["kubectl-sts.io/canary"].is_null(),
        "canary state left behind"
    );
    let mut ps = pods(&kc);
    ps.sort();
    assert_eq!(
        ps,
        (0..3)
            .map(|i| (format!("web-{i}"), to.clone(), true, false))
            .collect::<Vec<_>>()
    );
    sb.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// 3. kube-scheduler exits by design when its cache disagrees with its
/// informer (as after an API server restart, see sts_sandbox::SUPERVISED):
/// the sandbox restarts it, and a scale-up gets its new pod scheduled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_scheduler_is_restarted() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (mut sb, kc, dir) = sandbox_with_web("scheduler").await;
    let pid = |sb: &sts_sandbox::Sandbox| {
        sb.pids()
            .into_iter()
            .find(|(n, _)| n == "kube-scheduler")
            .map(|(_, p)| p)
            .unwrap()
    };
    let old = pid(&sb);
    let ok = Command::new("kill")
        .args(["-KILL", &old.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    wait("kube-scheduler restarted", Duration::from_secs(30), || {
        pid(&sb) != old
    });
    let restarts = sb.restarts();
    assert!(
        restarts
            .iter()
            .filter(|r| r.contains("kube-scheduler exited"))
            .count()
            == 1,
        "{restarts:?}"
    );
    let (code, out) = kubectl(
        &kc,
        &["scale", "sts", "web", "-n", "faults", "--replicas=4"],
    );
    assert_eq!(code, 0, "{out}");
    wait("web-3 scheduled and Ready", Duration::from_secs(60), || {
        settled(&kc, 4)
    });
    let (code, out) = kubectl(
        &kc,
        &[
            "get",
            "pod",
            "web-3",
            "-n",
            "faults",
            "-o",
            "jsonpath={.spec.nodeName}",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("sandbox-worker-"), "{out}");
    sb.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
