//! Faults on a PRIVATE sandbox (restarting components would break other
//! tests): kube-apiserver is restarted while `status --watch` runs; the
//! watch reconnects and shows a change made after the restart (the deleted
//! governing Service, which involves no controller).
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiserver_restart_during_status_watch() {
    let dir = std::env::temp_dir().join(format!("kubectl-sts-faults-{}", std::process::id()));
    let mut opts = sts_sandbox::Options::new(&dir)
        .expect("STS_SANDBOX_BINS must name the sandbox binaries (scripts/test sets it)");
    opts.workers = 2;
    let mut sb = sts_sandbox::Sandbox::start(opts)
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
