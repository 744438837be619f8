//! Shell completion: the committed scripts match the CLI, bash really
//! completes with them, and `kubectl sts <TAB>` completes through kubectl's
//! plugin completion (`kubectl_complete-sts` → `kubectl-sts __complete`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::Ns;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kubectl-sts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const FILES: &[(&str, &str)] = &[
    ("bash", "kubectl-sts.bash"),
    ("zsh", "_kubectl-sts"),
    ("fish", "kubectl-sts.fish"),
    ("powershell", "kubectl-sts.ps1"),
    ("kubectl-helper", "kubectl_complete-sts"),
];

fn generated(shell: &str) -> String {
    let out = Command::new(common::bin())
        .args(["completion", shell])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "completion {shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Fails when `completions/` drifts from the CLI. Regenerate with
/// `scripts/gen-completions` or `UPDATE_COMPLETIONS=1 cargo test --test completion`.
#[test]
fn committed_scripts_match_the_cli() {
    let update = std::env::var_os("UPDATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in FILES {
        let path = root().join("completions").join(file);
        let want = generated(shell);
        assert!(
            want.contains("status") || *shell == "kubectl-helper",
            "{shell} script lists no subcommands"
        );
        assert!(
            !want.contains("__complete") || *shell == "kubectl-helper",
            "{shell} script offers the hidden __complete"
        );
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            if update {
                std::fs::write(&path, &want).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "completion scripts out of date: {stale:?}\nregenerate with scripts/gen-completions (or UPDATE_COMPLETIONS=1 cargo test --test completion)"
    );
}

/// Types into an interactive bash in a pseudo-terminal (util-linux `script`).
/// `kubectl-sts` is shadowed by a function that echoes its arguments, so
/// pressing Enter after TAB shows exactly what readline completed.
fn bash_complete(lines: &[&str]) -> Vec<String> {
    let dir = tmpdir("bash");
    let rc = dir.join("rc");
    std::fs::write(
        &rc,
        format!(
            "PS1='$ '\nsource {}\nkubectl-sts() {{ echo \"ARGS:[$*]\"; }}\n",
            root().join("completions/kubectl-sts.bash").display()
        ),
    )
    .unwrap();
    let mut input = String::new();
    for l in lines {
        input.push_str(l);
        input.push('\n');
    }
    input.push_str("exit\n");
    let mut child = Command::new("script")
        .args([
            "-qfec",
            &format!("bash --noprofile --rcfile {} -i", rc.display()),
            "/dev/null",
        ])
        .env("TERM", "dumb")
        .env("HOME", &dir)
        .env_remove("BASH_ENV")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` must be installed");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    let got: Vec<String> = text
        .split(['\n', '\r'])
        .filter_map(|l| {
            l.find("ARGS:[")
                .map(|i| l[i + 6..].trim_end_matches(']').to_string())
        })
        .collect();
    assert_eq!(
        got.len(),
        lines.len(),
        "not every line ran; terminal output:\n{text}"
    );
    got
}

#[test]
fn bash_completes_subcommands_flags_and_values() {
    let got = bash_complete(&[
        "kubectl-sts st\t",
        "kubectl-sts status --ou\t",
        "kubectl-sts status -o j\t",
        "kubectl-sts prune\t",
        "kubectl-sts completion kub\t",
        "kubectl-sts status --all-n\t",
    ]);
    assert_eq!(
        got,
        [
            "status",
            "status --output",
            "status -o json",
            "prune-pvcs",
            "completion kubectl-helper",
            "status --all-namespaces"
        ]
    );
}

fn helper_path_dir() -> PathBuf {
    let dir = tmpdir("kubectl-helper");
    std::os::unix::fs::symlink(common::bin(), dir.join("kubectl-sts")).unwrap();
    let helper = dir.join("kubectl_complete-sts");
    std::fs::write(&helper, generated("kubectl-helper")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn with_path(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs `kubectl __complete sts ARGS…`: kubectl's own completion entry point,
/// which delegates to `kubectl_complete-sts` found on PATH.
fn kubectl_complete(dir: &Path, args: &[&str]) -> (Vec<String>, String) {
    let out = Command::new("kubectl")
        .arg("__complete")
        .arg("sts")
        .args(args)
        .env("PATH", with_path(dir))
        .env("KUBECONFIG", &common::env().kubeconfig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let directive = lines.pop().unwrap_or_default();
    let names = lines
        .into_iter()
        .map(|l| l.split('\t').next().unwrap_or("").to_string())
        .collect();
    (names, directive)
}

#[test]
fn kubectl_sts_tab_completes_names_from_the_cluster() {
    let ns = Ns::new("completion-names");
    ns.apply(&common::web_yaml(&[]));
    ns.apply(
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: logs}
spec:
  selector: {matchLabels: {app: logs}}
  template:
    metadata: {labels: {app: logs}}
    spec:
      nodeSelector: {kubectl-sts.test/no-such-node: "true"}
      containers: [{name: c, image: busybox}]
"#,
    );
    let dir = helper_path_dir();

    let (subs, d) = kubectl_complete(&dir, &["st"]);
    assert_eq!((subs, d.as_str()), (vec!["status".to_string()], ":4"));

    let (names, d) = kubectl_complete(&dir, &["-n", &ns.name, "status", ""]);
    assert_eq!(names, ["ds/logs", "sts/web"]);
    assert_eq!(d, ":4");
    let (names, _) = kubectl_complete(&dir, &["status", "-n", &ns.name, "w"]);
    assert_eq!(names, ["web"]);
    let (names, _) = kubectl_complete(&dir, &["canary", "--namespace", &ns.name, ""]);
    assert_eq!(names, ["sts/web"], "canary works on StatefulSets only");
    let (names, _) = kubectl_complete(&dir, &["-n", &ns.name, "status", "daemonset/"]);
    assert_eq!(names, ["daemonset/logs"]);

    let (nss, _) = kubectl_complete(&dir, &["-n", &ns.name[..ns.name.len() - 1]]);
    assert!(nss.contains(&ns.name), "{nss:?}");

    let (flags, _) = kubectl_complete(&dir, &["status", "--fail"]);
    assert_eq!(flags, ["--fail-on"]);

    // An unreachable cluster gives cobra's error directive and no candidates, quickly.
    let out = Command::new(common::bin())
        .args([
            "__complete",
            "--kubeconfig",
            "/nonexistent/kubeconfig",
            "status",
            "",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), ":1\n");
    assert!(out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
