//! Bad input catalogue: every case asserts the exact one-line message (or its
//! stable prefix where it contains a port), the hint, the exit code, and
//! that nothing panicked. Grouped by category.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

struct Case {
    category: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    code: i32,
    /// The `error:` line must start with this.
    error: String,
    /// The `hint:` line must start with this (empty: no hint line expected to be checked).
    hint: &'static str,
}

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!("kubectl-sts-errors-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a copy of the admin kubeconfig with `f` applied to its text.
fn variant(dir: &Path, name: &str, f: impl Fn(&str) -> String) -> String {
    let text = std::fs::read_to_string(&common::env().kubeconfig).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, f(&text)).unwrap();
    p.display().to_string()
}

fn replace_line(text: &str, key: &str, new: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with(key) {
                format!("{}{new}", &l[..l.len() - l.trim_start().len()])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn case(category: &'static str, args: &[&str], code: i32, error: &str, hint: &'static str) -> Case {
    Case {
        category,
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        code,
        error: error.to_string(),
        hint,
    }
}

#[test]
fn bad_input_catalogue() {
    let dir = scratch();
    let admin = common::env().kubeconfig.display().to_string();
    let ns = common::Ns::new("errors");
    let dead = variant(&dir, "dead.yaml", |t| {
        let mut out = String::new();
        for l in t.lines() {
            if l.trim_start().starts_with("server:") {
                out.push_str("    server: https://127.0.0.1:1\n");
            } else {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    });
    let corrupt = dir.join("corrupt.yaml");
    std::fs::write(&corrupt, "{not yaml: [").unwrap();
    let corrupt = corrupt.display().to_string();
    let wrong_ca = variant(&dir, "wrong-ca.yaml", |t| {
        // A CA that did not sign the server's certificate: the server cert itself.
        let server_cert = std::fs::read(
            common::env()
                .kubeconfig
                .parent()
                .unwrap()
                .join("pki/apiserver.crt"),
        )
        .unwrap();
        replace_line(
            t,
            "certificate-authority-data:",
            &format!("certificate-authority-data: {}", b64(&server_cert)),
        )
    });
    let bad_token = variant(&dir, "bad-token.yaml", |t| {
        let t = t
            .lines()
            .filter(|l| !l.trim_start().starts_with("client-certificate-data:"))
            .collect::<Vec<_>>()
            .join("\n");
        replace_line(&t, "client-key-data:", "token: not-a-valid-token")
    });
    let ns_name = ns.name.as_str();
    let cases = vec![
        // arguments
        case(
            "arguments",
            &["status", "deploy/web"],
            2,
            "error: unsupported resource type \"deploy\": kubectl sts works on statefulsets (sts) and daemonsets (ds)",
            "hint: use sts/web or ds/web",
        ),
        case(
            "arguments",
            &["status", "sts/"],
            2,
            "error: missing name in \"sts/\"",
            "hint: use NAME, sts/NAME or ds/NAME",
        ),
        case(
            "arguments",
            &["status", "a/b/c"],
            2,
            "error: too many '/' in \"a/b/c\"",
            "hint: use NAME, sts/NAME or ds/NAME",
        ),
        case(
            "arguments",
            &["status", "Web"],
            2,
            "error: invalid name \"Web\": names are lowercase letters, digits, '-' and '.'",
            "",
        ),
        case(
            "arguments",
            &["status", "web", "-A"],
            2,
            "error: -A/--all-namespaces cannot be used with a NAME",
            "hint: drop -A, or pick the namespace with -n",
        ),
        case(
            "arguments",
            &["frobnicate"],
            2,
            "error: unrecognized subcommand 'frobnicate'",
            "hint: see 'kubectl sts --help'",
        ),
        // flag values
        case(
            "flag values",
            &["status", "-o", "bogus"],
            2,
            "error: invalid value 'bogus' for '--output <FORMAT>'",
            "hint: possible values: table, wide, json, yaml",
        ),
        case(
            "flag values",
            &["status", "--request-timeout", "soon"],
            2,
            "error: invalid --request-timeout \"soon\"",
            "hint: use a duration such as 30s, 1m or 0 for no limit",
        ),
        case(
            "flag values",
            &["status", "--fail-on", "sometimes"],
            2,
            "error: invalid value 'sometimes' for '--fail-on <LEVEL>'",
            "hint: possible values: warning, error",
        ),
        case(
            "flag values",
            &["status", "--color", "purple"],
            2,
            "error: invalid value 'purple' for '--color <WHEN>'",
            "hint: possible values: auto, always, never",
        ),
        case(
            "flag values",
            &["status", "--bogus"],
            2,
            "error: unexpected argument '--bogus' found",
            "",
        ),
        // kubeconfig / auth
        case(
            "kubeconfig/auth",
            &["status", "--kubeconfig", "/nonexistent/kubeconfig"],
            3,
            "error: kubeconfig /nonexistent/kubeconfig does not exist",
            "hint: check the --kubeconfig path",
        ),
        case(
            "kubeconfig/auth",
            &["status", "--kubeconfig", &corrupt],
            3,
            &format!("error: cannot read kubeconfig {corrupt}: failed to parse kubeconfig YAML"),
            "hint: check that the file is a valid kubeconfig",
        ),
        case(
            "kubeconfig/auth",
            &["status", "--kubeconfig", &dead],
            3,
            "error: cannot reach the API server at https://127.0.0.1:1/: client error (Connect): tcp connect error: Connection refused",
            "hint: is the cluster running",
        ),
        case(
            "kubeconfig/auth",
            &["status", "--kubeconfig", &wrong_ca],
            3,
            "error: cannot reach the API server at https://127.0.0.1:",
            "hint: the server's certificate is not trusted",
        ),
        case(
            "kubeconfig/auth",
            &["status", "--kubeconfig", &bad_token],
            3,
            "error: the API server rejected the credentials (401 Unauthorized)",
            "hint: the token or client certificate in the kubeconfig is invalid or expired",
        ),
        case(
            "kubeconfig/auth",
            &["status", "--kubeconfig", &admin, "--context", "nope"],
            3,
            "error: context \"nope\" not found in the kubeconfig",
            "hint: list contexts with: kubectl config get-contexts",
        ),
        case(
            "kubeconfig/auth",
            &["status", "--kubeconfig", &admin, "--request-timeout", "1ms"],
            3,
            "error: cannot reach the API server at https://127.0.0.1:",
            "hint: the server did not answer in time",
        ),
        // missing objects
        case(
            "missing objects",
            &["status", "--kubeconfig", &admin, "-n", ns_name, "nope"],
            3,
            &format!("error: statefulset \"nope\" not found in namespace \"{ns_name}\""),
            "hint: list them with: kubectl get statefulsets",
        ),
        case(
            "missing objects",
            &[
                "status",
                "--kubeconfig",
                &admin,
                "-n",
                "no-such-namespace-xyz",
                "web",
            ],
            3,
            "error: namespace \"no-such-namespace-xyz\" not found",
            "hint: list namespaces with: kubectl get namespaces",
        ),
        case(
            "missing objects",
            &["status", "--kubeconfig", &admin, "-n", ns_name, "sts/nope"],
            3,
            &format!("error: statefulset \"nope\" not found in namespace \"{ns_name}\""),
            "hint: list them with",
        ),
    ];
    let mut failures = Vec::new();
    let mut per_category = std::collections::BTreeMap::<&str, usize>::new();
    for c in &cases {
        *per_category.entry(c.category).or_default() += 1;
        let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = c.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = common::sts_with(&args, &envs);
        let lines: Vec<&str> = r.stderr.lines().collect();
        let err_ok = lines.first().is_some_and(|l| l.starts_with(&c.error));
        let hint_ok = c.hint.is_empty() || lines.get(1).is_some_and(|l| l.starts_with(c.hint));
        let shape_ok = lines.len() <= 2
            && !r.stderr.contains("panicked")
            && !r.stderr.contains("RUST_BACKTRACE");
        if r.code != c.code || !err_ok || !hint_ok || !shape_ok {
            failures.push(format!(
                "[{}] {:?}: exit {} (want {}), stderr:\n{}",
                c.category, c.args, r.code, c.code, r.stderr
            ));
        }
    }
    println!(
        "bad-input catalogue: {} cases {:?}",
        cases.len(),
        per_category
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                T[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}
