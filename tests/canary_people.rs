//! `kubectl sts canary` when people and time interfere: a person at a
//! terminal (driven through a pty), a colleague in a second terminal, a
//! template edited outside the canary. The real binary against the sandbox.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Ns, Run};
use serde_json::Value;

const T: Duration = Duration::from_secs(240);

/// Runs a command on a pseudo-terminal (stdin, stdout and stderr are the
/// terminal, 200×50), forwarding our stdin to it and its output to our
/// stdout; exits with the command's exit code.
const PTY_DRIVER: &str = r#"
import fcntl, os, pty, select, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
stdin_open = True
while True:
    watch = [fd] + ([0] if stdin_open else [])
    r, _, _ = select.select(watch, [], [], 0.1)
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            break
        os.write(1, data)
    if stdin_open and 0 in r:
        d = os.read(0, 1024)
        if d:
            os.write(fd, d)
        else:
            stdin_open = False
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// The plugin on a terminal: what it printed so far, keys to type.
struct Pty {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    fn spawn(ns: &Ns, args: &[&str]) -> Pty {
        let driver =
            std::env::temp_dir().join(format!("kubectl-sts-pty-{}.py", std::process::id()));
        std::fs::write(&driver, PTY_DRIVER).unwrap();
        let mut a: Vec<String> = vec![
            driver.to_string_lossy().into_owned(),
            common::bin().to_string_lossy().into_owned(),
        ];
        a.extend(args.iter().map(|s| s.to_string()));
        a.extend(["-n".to_string(), ns.name.clone()]);
        let mut child = Command::new("python3")
            .args(&a)
            .env("KUBECONFIG", &common::env().kubeconfig)
            .env("TERM", "xterm")
            .env_remove("NO_COLOR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let mut so = child.stdout.take().unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let o2 = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = so.read(&mut buf) {
                if n == 0 {
                    break;
                }
                o2.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty { child, stdin, out }
    }

    /// Everything printed so far (escape sequences included).
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    /// Waits until the output contains `s`.
    fn wait_for(&self, s: &str, timeout: Duration) {
        let t0 = Instant::now();
        while !self.text().contains(s) {
            assert!(
                t0.elapsed() < timeout,
                "no {s:?} on the terminal within {timeout:?}; it shows:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `keys`.
    fn send(&mut self, keys: &str) {
        let i = self.stdin.as_mut().unwrap();
        i.write_all(keys.as_bytes()).unwrap();
        i.flush().unwrap();
    }

    /// Whether the command is still running.
    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the exit (at most `timeout`): the code and the output.
    fn finish(mut self, timeout: Duration) -> (i32, String) {
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // Let the reader drain.
                std::thread::sleep(Duration::from_millis(200));
                return (st.code().unwrap_or(-1), self.text());
            }
            if t0.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("still running after {timeout:?}:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn setup(test: &str) -> (Ns, Value) {
    let ns = Ns::new(test);
    ns.apply(&common::web_yaml(&[]));
    let s = ns.wait_sts_settled("web", T);
    (ns, s)
}

fn update_rev(s: &Value) -> String {
    s["status"]["updateRevision"].as_str().unwrap().to_string()
}

fn partition(ns: &Ns) -> i64 {
    ns.get("statefulset", "web")["spec"]["updateStrategy"]["rollingUpdate"]["partition"]
        .as_i64()
        .unwrap_or(0)
}

fn state(ns: &Ns) -> Option<Value> {
    ns.get("statefulset", "web")["metadata"]["annotations"]["kubectl-sts.io/canary"]
        .as_str()
        .map(|s| serde_json::from_str(s).unwrap())
}

fn image(ns: &Ns) -> String {
    ns.get("statefulset", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

fn env_names(ns: &Ns) -> Vec<String> {
    ns.get("statefulset", "web")["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every pod of web on `rev` and Ready.
fn all_on(ns: &Ns, rev: &str) -> bool {
    let v = ns
        .kubectl(&["get", "pods", "-l", "app=web", "-o", "json"])
        .json();
    let items = v["items"].as_array().unwrap();
    items.len() == 3
        && items.iter().all(|p| {
            p["metadata"]["deletionTimestamp"].is_null()
                && p["metadata"]["labels"]["controller-revision-hash"] == rev
                && p["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
        })
}

fn spawn(ns: &Ns, args: &[&str]) -> Child {
    let mut a: Vec<&str> = args.to_vec();
    a.extend_from_slice(&["-n", &ns.name]);
    Command::new(common::bin())
        .env("KUBECONFIG", &common::env().kubeconfig)
        .args(&a)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> Run {
    let o = child.wait_with_output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Waits (at most `timeout`) for `child` to exit.
fn exits_within(child: &mut Child, timeout: Duration) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Writes from kubectl-sts to the StatefulSet or its pods that took effect
/// (dryRun probes aside), from the audit log.
fn writes(ns: &Ns) -> usize {
    common::audit_events(&ns.name)
        .iter()
        .filter(|e| {
            ["patch", "update", "delete"].contains(&e["verb"].as_str().unwrap_or(""))
                && ["statefulsets", "pods"]
                    .contains(&e["objectRef"]["resource"].as_str().unwrap_or(""))
                && !e["requestURI"]
                    .as_str()
                    .unwrap_or("")
                    .contains("dryRun=All")
                && e["responseStatus"]["code"].as_i64().unwrap_or(0) < 300
        })
        .count()
}

/// A plugin run without a terminal whose stdout is read as it comes.
struct Piped {
    child: Child,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
}

impl Piped {
    fn spawn(ns: &Ns, args: &[&str]) -> Piped {
        let mut child = spawn(ns, args);
        let read = |mut r: Box<dyn Read + Send>| {
            let buf = Arc::new(Mutex::new(String::new()));
            let b2 = buf.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = r.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    b2.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
            });
            buf
        };
        let out = read(Box::new(child.stdout.take().unwrap()));
        let err = read(Box::new(child.stderr.take().unwrap()));
        Piped { child, out, err }
    }

    fn wait_for(&self, s: &str, timeout: Duration) {
        let t0 = Instant::now();
        while !self.out.lock().unwrap().contains(s) {
            assert!(
                t0.elapsed() < timeout,
                "no {s:?} within {timeout:?}:\n{}\n{}",
                self.out.lock().unwrap(),
                self.err.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn finish(mut self) -> Run {
        let st = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        Run {
            code: st.code().unwrap_or(-1),
            stdout: self.out.lock().unwrap().clone(),
            stderr: self.err.lock().unwrap().clone(),
        }
    }
}

fn events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn of_kind<'a>(ev: &'a [Value], kind: &str) -> Vec<&'a Value> {
    ev.iter().filter(|e| e["event"] == kind).collect()
}

/// `y` then Enter at the start prompt; an Enter typed ahead while step 1
/// runs does not answer the checkpoint after it: the session stays at the
/// menu (partition 2, nothing more sent) until a real answer, and `q`
/// there pauses (exit 5).
#[test]
fn y_enter_at_the_start_prompt_leaves_the_session_at_the_first_checkpoint() {
    let (ns, _) = setup("canary-tty-ahead");
    let mut a = Pty::spawn(
        &ns,
        &[
            "canary",
            "web",
            "--image",
            "nginx=nginx:1.26",
            "--soak",
            "3s",
        ],
    );
    a.wait_for("start the canary of statefulset web? [y/N]", T);
    a.send("y");
    std::thread::sleep(Duration::from_millis(300));
    // `y` alone is not an answer.
    assert_eq!(partition(&ns), 0, "started on `y` without Enter");
    a.send("\r");
    a.wait_for("step 1/3: partition 2", T);
    // Typed ahead while the step soaks.
    a.send("\r");
    a.wait_for("step 1/3 complete: what next?", T);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        a.running(),
        "the session left the checkpoint:\n{}",
        a.text()
    );
    assert_eq!(partition(&ns), 2, "{}", a.text());
    assert!(!a.text().contains("step 2/3: partition 1,"), "{}", a.text());
    a.send("q");
    let (code, out) = a.finish(T);
    assert_eq!(code, 5, "{out}");
    assert!(out.contains("canary paused"), "{out}");
    assert_eq!(partition(&ns), 2);
    assert!(state(&ns).is_some());
}

/// Session A waits at the checkpoint menu; B aborts from another terminal.
/// A notices within seconds, says who, writes nothing and exits 4; the
/// StatefulSet ends rolled back with no state.
#[test]
fn a_second_process_aborting_while_the_first_waits_at_the_prompt() {
    let (ns, s) = setup("canary-tty-abort");
    let from = update_rev(&s);
    let mut a = Pty::spawn(
        &ns,
        &[
            "canary",
            "web",
            "--image",
            "nginx=nginx:1.26",
            "--soak",
            "0",
        ],
    );
    a.wait_for("[y/N]", T);
    a.send("y\r");
    a.wait_for("step 1/3 complete: what next?", T);
    let b = ns.sts(&["canary", "web", "--abort", "--yes", "--timeout", "120s"]);
    b.expect_code(1);
    assert!(b.stdout.contains("aborted:"), "{}", b.stdout);
    let t0 = Instant::now();
    let (code, out) = a.finish(Duration::from_secs(10));
    assert_eq!(code, 4, "{out}");
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert!(
        out.contains("is being aborted by") || out.contains("was aborted by someone else"),
        "{out}"
    );
    assert!(
        out.contains("this session stopped and wrote nothing"),
        "{out}"
    );
    assert!(!out.contains("step 2/3: partition 1,"), "{out}");
    let s = ns.wait_sts_settled("web", T);
    assert_eq!(update_rev(&s), from);
    assert_eq!(s["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 0);
    assert!(state(&ns).is_none(), "state written back");
    assert_eq!(image(&ns), "nginx:1.25");
    assert!(all_on(&ns, &from));
}

/// Session A soaks step 1 (no terminal); B aborts. A stops within seconds
/// with exit 4, names who aborted, and the roll-back finishes.
#[test]
fn a_second_process_aborting_while_the_first_soaks() {
    let (ns, s) = setup("canary-soak-abort");
    let from = update_rev(&s);
    let mut a = Piped::spawn(
        &ns,
        &[
            "canary",
            "web",
            "--image",
            "nginx=nginx:1.26",
            "--auto",
            "--soak",
            "10m",
            "-o",
            "json",
        ],
    );
    // web-2 Ready: step 1 soaks.
    a.wait_for("\"pod-ready\"", T);
    let b = spawn(
        &ns,
        &["canary", "web", "--abort", "--yes", "--timeout", "120s"],
    );
    let t0 = Instant::now();
    assert!(
        exits_within(&mut a.child, Duration::from_secs(15)),
        "A did not notice the abort"
    );
    let noticed = t0.elapsed();
    let ra = a.finish();
    let rb = finish(b);
    rb.expect_code(1);
    ra.expect_code(4);
    assert!(noticed < Duration::from_secs(15), "{noticed:?}");
    let ev = events(&ra.stdout);
    let stopped = of_kind(&ev, "stopped");
    assert_eq!(stopped.len(), 1, "{}", ra.stdout);
    assert!(
        ra.stderr.contains("is being aborted by admin")
            || ra.stderr.contains("was aborted by someone else"),
        "{}",
        ra.stderr
    );
    assert!(
        of_kind(&ev, "aborting").is_empty(),
        "A must not abort itself"
    );
    let s = ns.wait_sts_settled("web", T);
    assert_eq!(update_rev(&s), from);
    assert!(state(&ns).is_none());
    assert!(all_on(&ns, &from));
}

/// Paused after step 1; a colleague adds an env var to the template. The
/// resume is refused at once (exit 4, nothing written, the template keeps
/// the edit, the edit shown); `--abort` without a terminal refuses to
/// discard it; on a terminal it shows it and asks (Esc declines); yes rolls
/// back.
#[test]
fn a_template_edited_during_a_pause_then_resume_then_abort() {
    let (ns, s) = setup("canary-edited");
    let from = update_rev(&s);
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
    ns.kubectl(&["set", "env", "statefulset/web", "-c", "nginx", "HOTFIX=1"])
        .expect_code(0);
    let before = writes(&ns);
    let t0 = Instant::now();
    let r = ns.sts(&["canary", "web", "--yes", "--soak", "0", "--timeout", "5m"]);
    r.expect_code(4);
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    assert!(
        r.stderr
            .contains("the pod template of statefulset web was changed outside the canary")
            && r.stderr.contains("this session stopped and wrote nothing"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("container nginx: env HOTFIX added: 1"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains(&format!("kubectl sts canary web -n {} --abort", ns.name)),
        "{}",
        r.stderr
    );
    assert_eq!(env_names(&ns), vec!["HOTFIX"]);
    assert_eq!(writes(&ns), before, "the refused resume wrote");
    // No terminal: --abort --yes does not discard it silently.
    let r = ns.sts(&["canary", "web", "--abort", "--yes"]);
    r.expect_code(4);
    assert!(r.stdout.contains("env HOTFIX added: 1"), "{}", r.stdout);
    assert!(r.stderr.contains("--discard-changes"), "{}", r.stderr);
    assert_eq!(env_names(&ns), vec!["HOTFIX"]);
    // On a terminal: shown and asked; Esc declines.
    let a = {
        let mut a = Pty::spawn(&ns, &["canary", "web", "--abort", "--timeout", "120s"]);
        a.wait_for("discard those changes and roll statefulset web back to", T);
        a.send("\x1b");
        a
    };
    let (code, out) = a.finish(T);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("env HOTFIX added: 1"), "{out}");
    assert!(out.contains("not confirmed; nothing was changed"), "{out}");
    assert_eq!(env_names(&ns), vec!["HOTFIX"]);
    assert_eq!(writes(&ns), before, "a declined abort wrote");
    // Yes: rolled back to the revision before the canary.
    let mut a = Pty::spawn(&ns, &["canary", "web", "--abort", "--timeout", "120s"]);
    a.wait_for("discard those changes and roll statefulset web back to", T);
    a.send("y\r");
    let (code, out) = a.finish(T);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("aborted: every pod"), "{out}");
    let s = ns.wait_sts_settled("web", T);
    assert_eq!(update_rev(&s), from);
    assert!(env_names(&ns).is_empty());
    assert!(state(&ns).is_none());
}

/// `--pause` and `--promote` from a second process: the running session
/// acts on them, says who asked, and the state records it.
#[test]
fn pause_and_promote_from_a_second_process() {
    let (ns, _) = setup("canary-remote");
    let a = spawn(
        &ns,
        &[
            "canary",
            "web",
            "--image",
            "nginx=nginx:1.26",
            "--auto",
            "--soak",
            "10m",
            "-o",
            "json",
        ],
    );
    common::wait_until("step 1 soaking", T, || {
        partition(&ns) == 2 && state(&ns).is_some_and(|s| s["to"] != "")
    });
    let b = ns.sts(&["canary", "web", "--pause", "--yes"]);
    b.expect_code(0);
    assert!(
        b.stdout.contains("paused: the session of admin"),
        "{}",
        b.stdout
    );
    let ra = finish(a);
    ra.expect_code(5);
    let ev = events(&ra.stdout);
    let p = of_kind(&ev, "paused");
    assert_eq!(p.len(), 1, "{}", ra.stdout);
    assert!(
        p[0]["by"].as_str().unwrap().starts_with("admin ("),
        "{}",
        ra.stdout
    );
    let st = state(&ns).unwrap();
    assert_eq!(st["last"]["action"], "pause");
    assert!(
        st["last"]["handledBy"]
            .as_str()
            .unwrap()
            .starts_with("admin (")
    );
    assert!(st.get("request").is_none(), "{st}");
    assert_eq!(partition(&ns), 2);

    // Resume with --auto; promote from another process while step 1 soaks
    // again: the session jumps to the last step and finishes.
    let a = Piped::spawn(
        &ns,
        &["canary", "web", "--auto", "--soak", "20s", "-o", "json"],
    );
    a.wait_for("\"step-started\"", T);
    let b = ns.sts(&["canary", "web", "--promote", "--yes"]);
    b.expect_code(0);
    assert!(
        b.stdout.contains("promoting: the session of admin"),
        "{}",
        b.stdout
    );
    let ra = a.finish();
    ra.expect_code(0);
    let ev = events(&ra.stdout);
    assert_eq!(of_kind(&ev, "promoting").len(), 1, "{}", ra.stdout);
    let parts: Vec<i64> = of_kind(&ev, "step-started")
        .iter()
        .map(|e| e["partition"].as_i64().unwrap())
        .collect();
    assert_eq!(parts.last(), Some(&0), "{parts:?}");
    assert!(!parts.contains(&1), "step 2 was not skipped: {parts:?}");
    assert!(state(&ns).is_none());
    assert_eq!(image(&ns), "nginx:1.26");
}

/// On a terminal, the live line's soak counter counts, and each pod line
/// appears once.
#[test]
fn the_live_line_counts_the_soak() {
    let (ns, _) = setup("canary-live");
    let a = Pty::spawn(
        &ns,
        &[
            "canary",
            "web",
            "--image",
            "nginx=nginx:1.26",
            "--auto",
            "--soak",
            "6s",
            "--steps",
            "1,100%",
        ],
    );
    let (code, out) = a.finish(T);
    assert_eq!(code, 0, "{out}");
    let counts: Vec<u64> = out
        .match_indices("soaking, ")
        .filter_map(|(i, _)| out[i + "soaking, ".len()..].split('s').next()?.parse().ok())
        .collect();
    let mut distinct = counts.clone();
    distinct.dedup();
    assert!(
        distinct.len() >= 4 && distinct.windows(2).any(|w| w[1] > w[0]),
        "the soak counter did not count: {counts:?}\n{out}"
    );
    for pod in ["web-0", "web-1", "web-2"] {
        let line = format!("{pod} is on ");
        assert_eq!(out.matches(&line).count(), 1, "{line:?} not once:\n{out}");
    }
    assert!(out.contains("canary done"), "{out}");
}

/// Ctrl-C at the start prompt: docs/errors.md's message on a line of its
/// own, exit 130, nothing written.
#[test]
fn ctrl_c_at_the_start_prompt() {
    let (ns, _) = setup("canary-tty-ctrlc");
    let before = writes(&ns);
    let mut a = Pty::spawn(&ns, &["canary", "web", "--image", "nginx=nginx:1.26"]);
    a.wait_for("[y/N]", T);
    a.send("\x03");
    let (code, out) = a.finish(T);
    assert_eq!(code, 130, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("interrupted at the prompt"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(!line.contains("[y/N]"), "on the prompt's line: {line:?}");
    assert!(
        out.contains("nothing was changed by this answer; re-run to be asked again"),
        "{out}"
    );
    assert_eq!(writes(&ns), before);
    assert!(state(&ns).is_none());
    assert_eq!(image(&ns), "nginx:1.25");
}

/// The plan starts with what changes; raw patches only on request, and in
/// JSON the state is an object, not a string of escaped JSON; steps that
/// are not a canary are refused unless asked for.
#[test]
fn plans_say_what_changes_and_refuse_big_steps() {
    let (ns, _) = setup("canary-plan");
    let before = writes(&ns);
    let r = ns.sts(&["canary", "web", "--image", "nginx=nginx:1.26", "--dry-run"]);
    r.expect_code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "changes to the pod template of statefulset web (computed locally; --dry-run=server asks the API server):"
    );
    assert_eq!(lines[1], "  container nginx: image nginx:1.25 → nginx:1.26");
    assert!(!r.stdout.contains("resourceVersion"), "{}", r.stdout);
    // The API server's own result, for a patch file.
    let dir = std::env::temp_dir().join(format!("kubectl-sts-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let patch = dir.join("env.yaml");
    std::fs::write(
        &patch,
        "spec:\n  containers:\n  - name: nginx\n    env:\n    - name: MODE\n      value: canary\n",
    )
    .unwrap();
    let r = ns.sts(&[
        "canary",
        "web",
        "--patch-file",
        patch.to_str().unwrap(),
        "--dry-run=server",
    ]);
    r.expect_code(0);
    assert!(
        r.stdout
            .starts_with("changes to the pod template of statefulset web:\n  container nginx: env MODE added: canary\n"),
        "{}",
        r.stdout
    );
    // JSON: the change list, and the patch with the state as an object.
    let r = ns.sts(&[
        "canary",
        "web",
        "--image",
        "nginx=nginx:1.26",
        "--dry-run",
        "-o",
        "json",
    ]);
    r.expect_code(0);
    assert!(
        !r.stdout.contains("\\\""),
        "JSON escaped in JSON: {}",
        r.stdout
    );
    let ev = events(&r.stdout);
    let plan = of_kind(&ev, "plan");
    assert_eq!(plan.len(), 1, "{}", r.stdout);
    assert_eq!(
        plan[0]["changes"],
        serde_json::json!([{"scope": {"kind": "container", "name": "nginx"}, "field": "image", "from": "nginx:1.25", "to": "nginx:1.26"}])
    );
    let st = &plan[0]["startPatch"]["metadata"]["annotations"]["kubectl-sts.io/canary"];
    assert!(st.is_object(), "{st}");
    assert_eq!(
        plan[0]["startPatch"]["spec"]["updateStrategy"]["rollingUpdate"]["partition"],
        3
    );
    // An all-at-once "canary", or a first step over half the pods: refused.
    let r = ns.sts(&[
        "canary",
        "web",
        "--image",
        "nginx=nginx:1.26",
        "--steps",
        "10,100%",
        "--yes",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("updates all 3 pod(s) above the floor at once: that is not a canary")
            && r.stderr.contains(&format!(
                "kubectl sts canary web --image nginx=nginx:1.26 --steps 10,100% --yes -n {} --allow-big-steps",
                ns.name
            )),
        "{}",
        r.stderr
    );
    let r = ns.sts(&[
        "canary",
        "web",
        "--image",
        "nginx=nginx:1.26",
        "--steps",
        "10,100%",
        "--allow-big-steps",
        "--dry-run",
    ]);
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("  step 1/1: partition 0 → 3 pod(s) updated"),
        "{}",
        r.stdout
    );
    assert_eq!(writes(&ns), before, "a plan wrote");
    let _ = std::fs::remove_dir_all(&dir);
}
