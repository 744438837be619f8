//! Shared helpers for integration tests against the sandbox cluster.
//!
//! The test command (`scripts/test`) starts one sandbox per run and exports
//! `STS_TEST_KUBECONFIG`, `STS_TEST_VIEWER_KUBECONFIG` and
//! `STS_TEST_AUDIT_LOG`. A test that cannot reach the sandbox fails; it never
//! skips. Every test works in its own namespace ([`Ns`]) and never touches
//! the shared nodes.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

pub mod consistency;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Paths of the shared sandbox.
pub struct Env {
    pub kubeconfig: PathBuf,
    pub viewer_kubeconfig: PathBuf,
    pub audit_log: PathBuf,
}

/// The shared sandbox, checked reachable once per test binary.
pub fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let var = |k: &str| {
            std::env::var_os(k).map(PathBuf::from).unwrap_or_else(|| {
                panic!(
                    "{k} is not set: integration tests need the sandbox; run them with scripts/test"
                )
            })
        };
        let e = Env {
            kubeconfig: var("STS_TEST_KUBECONFIG"),
            viewer_kubeconfig: var("STS_TEST_VIEWER_KUBECONFIG"),
            audit_log: var("STS_TEST_AUDIT_LOG"),
        };
        let out = Command::new("kubectl")
            .args([
                "--kubeconfig",
                e.kubeconfig.to_str().unwrap(),
                "get",
                "--raw",
                "/readyz",
            ])
            .output()
            .expect("kubectl must be on PATH");
        assert!(
            out.status.success(),
            "the sandbox at {} is not reachable: {}",
            e.kubeconfig.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        e
    })
}

/// The kubectl-sts binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-sts"))
}

/// Result of running a command, with helpers for assertions.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    /// Parses stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
    /// Panics with the whole output unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A namespace owned by one test; deleted on drop.
pub struct Ns {
    pub name: String,
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let clean: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let clean = clean.trim_matches('-').chars().take(40).collect::<String>();
    format!(
        "t-{clean}-{:x}{:x}",
        std::process::id() % 0xfff,
        (nanos ^ N.fetch_add(1, Ordering::SeqCst)) % 0xfffff
    )
}

impl Ns {
    /// Creates a fresh namespace and waits for its default ServiceAccount.
    pub fn new(test: &str) -> Ns {
        env();
        let ns = Ns { name: unique(test) };
        kubectl(&["create", "namespace", &ns.name]).expect_code(0);
        wait_until(
            &format!("default ServiceAccount in {}", ns.name),
            Duration::from_secs(60),
            || kubectl(&["get", "serviceaccount", "default", "-n", &ns.name]).code == 0,
        );
        ns
    }

    /// `kubectl -n NS args…` (admin).
    pub fn kubectl(&self, args: &[&str]) -> Run {
        let mut a = vec!["-n", self.name.as_str()];
        a.extend_from_slice(args);
        kubectl(&a)
    }

    /// `kubectl apply -n NS -f -` with the given YAML.
    pub fn apply(&self, yaml: &str) {
        let r = kubectl_stdin(&["apply", "-n", &self.name, "-f", "-"], yaml);
        assert_eq!(
            r.code, 0,
            "kubectl apply failed:\n{}\n{}",
            r.stdout, r.stderr
        );
    }

    /// Runs the plugin as admin in this namespace.
    pub fn sts(&self, args: &[&str]) -> Run {
        let mut a: Vec<&str> = args.to_vec();
        a.extend_from_slice(&["-n", &self.name]);
        sts(&a)
    }

    /// `kubectl get KIND NAME -o json`.
    pub fn get(&self, kind: &str, name: &str) -> Value {
        self.kubectl(&["get", kind, name, "-o", "json"])
            .expect_code(0)
            .json()
    }

    /// Waits until StatefulSet `name` is settled: observedGeneration ==
    /// generation, `replicas` pods ready and on the update revision, and the
    /// status identical on two reads in a row.
    pub fn wait_sts_settled(&self, name: &str, timeout: Duration) -> Value {
        let mut last = Value::Null;
        wait_until(
            &format!("statefulset {name} settled in {}", self.name),
            timeout,
            || {
                let s = self.get("statefulset", name);
                let st = &s["status"];
                let want = s["spec"]["replicas"].as_i64().unwrap_or(1);
                let ok = st["observedGeneration"] == s["metadata"]["generation"]
                    && st["replicas"].as_i64().unwrap_or(0) == want
                    && st["readyReplicas"].as_i64().unwrap_or(0) == want
                    && st["updatedReplicas"].as_i64().unwrap_or(0)
                        >= want
                            - s["spec"]["updateStrategy"]["rollingUpdate"]["partition"]
                                .as_i64()
                                .unwrap_or(0)
                    && *st == last["status"];
                last = s;
                ok
            },
        );
        last
    }
}

impl Ns {
    /// Starts `kubectl-sts ARGS -n NS` with `--watch` stopping on its own
    /// after `watch_for` (KUBECTL_STS_WATCH_FOR), stdout and stderr piped.
    pub fn spawn_watch(&self, args: &[&str], watch_for: &str) -> std::process::Child {
        Command::new(bin())
            .args(args)
            .args(["-n", &self.name])
            .env("KUBECONFIG", &env().kubeconfig)
            .env("KUBECTL_STS_WATCH_FOR", watch_for)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("kubectl-sts binary")
    }
}

/// The plugin's requests in namespace `ns`, from the API server's audit log.
pub fn audit_events(ns: &str) -> Vec<Value> {
    std::fs::read_to_string(&env().audit_log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("kubectl-sts/") && l.contains(ns))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| {
            e["userAgent"]
                .as_str()
                .is_some_and(|u| u.starts_with("kubectl-sts/"))
                && e["objectRef"]["namespace"] == ns
        })
        .collect()
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("kubectl")
            .args([
                "--kubeconfig",
                env().kubeconfig.to_str().unwrap_or_default(),
                "delete",
                "namespace",
                &self.name,
                "--wait=false",
            ])
            .output();
    }
}

/// `kubectl args…` as admin.
pub fn kubectl(args: &[&str]) -> Run {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&env().kubeconfig)
        .args(args)
        .output()
        .expect("kubectl must be on PATH");
    Run::from(out)
}

/// `kubectl args…` with stdin. `apply` and `create` skip kubectl's
/// client-side schema validation: it fetches the API server's OpenAPI v2
/// document, which the sandbox builds on demand, and under a full concurrent
/// test run that fetch can exceed kubectl's 32 s limit. The manifests are the
/// tests' own; the API server still validates every object.
pub fn kubectl_stdin(args: &[&str], input: &str) -> Run {
    use std::io::Write;
    let mut args: Vec<&str> = args.to_vec();
    if matches!(args.first(), Some(&"apply") | Some(&"create"))
        && !args.iter().any(|a| a.starts_with("--validate"))
    {
        args.push("--validate=false");
    }
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&env().kubeconfig)
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl must be on PATH");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Run::from(child.wait_with_output().unwrap())
}

/// Runs the plugin as admin (`--kubeconfig` of the sandbox), no TTY.
pub fn sts(args: &[&str]) -> Run {
    sts_with(args, &[])
}

/// Runs the plugin with extra environment variables.
pub fn sts_with(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.env("KUBECONFIG", &env().kubeconfig)
        .env_remove("NO_COLOR")
        .env("RUST_BACKTRACE", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("kubectl-sts binary");
    let r = Run::from(out);
    assert!(
        !r.stderr.contains("panicked"),
        "kubectl-sts panicked:\n{}",
        r.stderr
    );
    r
}

/// Polls `f` every 250 ms until it is true; panics after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {}s waiting for {what}",
            timeout.as_secs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The `web` fixture (StatefulSet + headless Service), with replacements
/// applied to the YAML text.
pub fn web_yaml(replacements: &[(&str, &str)]) -> String {
    let mut y = include_str!("../../fixtures/web.yaml").to_string();
    for (from, to) in replacements {
        assert!(y.contains(from), "fixture has no {from:?}");
        y = y.replace(from, to);
    }
    y
}
