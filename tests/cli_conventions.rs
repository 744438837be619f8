//! kubectl conventions: flag names, TYPE/NAME arguments, the exit-code table
//! in `--help`, colour control, and exec credential plugins in kubeconfigs.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::Ns;

fn help(args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.push("--help");
    let r = common::sts(&a);
    r.expect_code(0);
    r.stdout
}

/// Asserts `--help` lists the flag with exactly kubectl's short and long form.
fn has_flag(text: &str, short: Option<char>, long: &str) {
    let want = match short {
        Some(s) => format!("-{s}, --{long}"),
        None => format!("--{long}"),
    };
    assert!(
        text.lines().any(|l| l.trim_start().starts_with(&want)),
        "flag {want} missing from help:\n{text}"
    );
}

#[test]
fn flags_match_kubectl_names() {
    let status = help(&["status"]);
    for (s, l) in [
        (Some('n'), "namespace"),
        (Some('A'), "all-namespaces"),
        (Some('o'), "output"),
        (Some('w'), "watch"),
        (None, "context"),
        (None, "cluster"),
        (None, "user"),
        (None, "kubeconfig"),
        (None, "request-timeout"),
    ] {
        has_flag(&status, s, l);
    }
    let prune = help(&["prune-pvcs"]);
    for (s, l) in [
        (Some('l'), "selector"),
        (Some('A'), "all-namespaces"),
        (Some('o'), "output"),
        (None, "dry-run"),
    ] {
        has_flag(&prune, s, l);
    }
    let canary = help(&["canary"]);
    has_flag(&canary, None, "dry-run");
    has_flag(&canary, Some('o'), "output");
    // `--dry-run web` must not swallow the name: the value only attaches with `=`.
    let r = common::sts(&[
        "canary",
        "--dry-run",
        "web",
        "--image",
        "nginx=nginx:1",
        "--kubeconfig",
        "/nonexistent",
    ]);
    assert_eq!(
        r.code, 3,
        "the name was parsed as the dry-run mode:\n{}",
        r.stderr
    );
    let r = common::sts(&[
        "canary",
        "--dry-run=bogus",
        "web",
        "--image",
        "nginx=nginx:1",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("possible values: client, server"),
        "{}",
        r.stderr
    );
}

#[test]
fn exit_code_table_is_in_help() {
    let top = help(&[]);
    let table: Vec<(u8, String)> = top
        .lines()
        .skip_while(|l| !l.starts_with("Exit codes:"))
        .skip(1)
        .filter_map(|l| {
            let l = l.trim();
            let (code, rest) = l.split_once(' ')?;
            Some((code.parse().ok()?, rest.trim().to_string()))
        })
        .collect();
    let want: Vec<(u8, String)> = kubectl_sts::error::Exit::TABLE
        .iter()
        .map(|(c, m)| (*c, m.to_string()))
        .collect();
    assert_eq!(
        table, want,
        "--help exit-code table differs from error::Exit::TABLE"
    );
}

#[test]
fn type_name_arguments_and_colour() {
    let ns = Ns::new("conventions");
    ns.apply(&common::web_yaml(&[("replicas: 3", "replicas: 1")]));
    ns.wait_sts_settled("web", Duration::from_secs(240));
    for arg in ["web", "sts/web", "statefulset/web", "statefulsets.apps/web"] {
        let r = ns.sts(&["status", arg, "-o", "json"]);
        r.expect_code(0);
        assert_eq!(r.json()["name"], "web", "{arg}");
    }
    for arg in ["ds/nope", "daemonset/nope", "daemonsets/nope"] {
        let r = ns.sts(&["status", arg]);
        assert_eq!(r.code, 3, "{arg}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("error: daemonset \"nope\" not found"),
            "{arg}: {}",
            r.stderr
        );
    }
    let esc = "\u{1b}[";
    let always = ns.sts(&["status", "web", "--color=always"]);
    always.expect_code(0);
    assert!(
        always.stdout.contains(esc),
        "--color=always must colour:\n{}",
        always.stdout
    );
    let never = ns.sts(&["status", "web", "--color=never"]);
    assert!(!never.stdout.contains(esc));
    // Not a terminal: no colour by default.
    let auto = ns.sts(&["status", "web"]);
    assert!(!auto.stdout.contains(esc));
    // --color=always wins over NO_COLOR; auto respects it.
    let r = common::sts_with(
        &["status", "web", "-n", &ns.name, "--color=always"],
        &[("NO_COLOR", "1")],
    );
    assert!(r.stdout.contains(esc));
    assert_eq!(
        never.stdout.lines().count(),
        always.stdout.lines().count(),
        "colour must not change the layout"
    );
}

/// An exec credential plugin (client.authentication.k8s.io/v1) that returns
/// the sandbox admin's client certificate works like in kubectl.
#[test]
fn exec_credential_plugin_in_kubeconfig() {
    let ns = Ns::new("exec-plugin");
    let admin: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&common::env().kubeconfig).unwrap())
            .unwrap();
    let user = &admin["users"][0]["user"];
    let decode = |k: &str| {
        let out = std::process::Command::new("base64")
            .arg("-d")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut out = out;
        out.stdin
            .take()
            .unwrap()
            .write_all(user[k].as_str().unwrap().as_bytes())
            .unwrap();
        String::from_utf8(out.wait_with_output().unwrap().stdout).unwrap()
    };
    let cred = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"clientCertificateData": decode("client-certificate-data"), "clientKeyData": decode("client-key-data")}
    });
    let dir = std::env::temp_dir().join(format!("kubectl-sts-exec-{}", ns.name));
    std::fs::create_dir_all(&dir).unwrap();
    let cred_file = dir.join("cred.json");
    std::fs::write(&cred_file, cred.to_string()).unwrap();
    let plugin = dir.join("cred-plugin");
    std::fs::write(
        &plugin,
        format!("#!/bin/sh\ncat '{}'\n", cred_file.display()),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&plugin)
        .status()
        .unwrap();
    let mut kc = admin.clone();
    kc["users"][0]["user"] = serde_saphyr::from_str::<serde_json::Value>(&format!(
        "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: {}\n  interactiveMode: Never\n",
        plugin.display()
    ))
    .unwrap();
    let kc_path = dir.join("kubeconfig");
    std::fs::write(&kc_path, serde_saphyr::to_string(&kc).unwrap()).unwrap();
    let r = common::sts(&[
        "status",
        "--kubeconfig",
        kc_path.to_str().unwrap(),
        "-n",
        &ns.name,
    ]);
    assert_eq!(r.code, 0, "exec plugin kubeconfig failed:\n{}", r.stderr);
    assert!(
        r.stdout.contains("No StatefulSets or DaemonSets found."),
        "{}",
        r.stdout
    );
    // A plugin that fails gives exit 3 with one line.
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho 'token expired, log in again' >&2\nexit 1\n",
    )
    .unwrap();
    let r = common::sts(&[
        "status",
        "--kubeconfig",
        kc_path.to_str().unwrap(),
        "-n",
        &ns.name,
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stderr.lines().count() <= 2, "{}", r.stderr);
}
