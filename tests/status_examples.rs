//! The committed examples in docs/examples (written by scripts/readme-examples)
//! must match what the binary prints today. The same scenario is rebuilt in
//! a test namespace; namespaces, ages, revision hashes, IPs, nodes and volume
//! names are masked and runs of spaces collapsed before comparing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Ns, wait_until};

const T: Duration = Duration::from_secs(240);

/// Masks one whitespace-separated token (keeping quotes and punctuation).
fn mask_token(tok: &str, ns: &str) -> String {
    let tok = tok.replace(ns, "<ns>");
    let start = tok
        .find(|c: char| c.is_ascii_alphanumeric() || c == '<')
        .unwrap_or(tok.len());
    let end = tok
        .rfind(|c: char| c.is_ascii_alphanumeric() || c == '>')
        .map(|i| i + 1)
        .unwrap_or(start)
        .max(start);
    let (pre, core, post) = (&tok[..start], &tok[start..end], &tok[end..]);
    let digits_then = |s: &str, units: &str| {
        s.len() > 1
            && s[..s.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && units.contains(&s[s.len() - 1..])
    };
    let masked = if core == "<age>" || digits_then(core, "smhd") {
        "<age>".to_string()
    } else if core.split('.').count() == 4
        && core
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        "<ip>".to_string()
    } else if core.starts_with("sandbox-worker-") {
        "<node>".to_string()
    } else if core.starts_with("pvc-") && core.len() == 40 {
        "<pv>".to_string()
    } else if let Some(h) = core.strip_prefix("web-")
        && h.len() >= 8
        && h.bytes().all(|b| b.is_ascii_alphanumeric())
        && !h.bytes().all(|b| b.is_ascii_digit())
    {
        "web-<hash>".to_string()
    } else {
        core.to_string()
    };
    format!("{pre}{masked}{post}")
}

fn mask(text: &str, ns: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            l.split_whitespace()
                .map(|t| mask_token(t, ns))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn masking_is_stable() {
    assert_eq!(
        mask(
            "0  web-0  12s   sandbox-worker-3  10.0.0.1  web-7777596fdb (update)",
            "t-q1"
        ),
        vec!["0 web-0 <age> <node> <ip> web-<hash> (update)"]
    );
    assert_eq!(
        mask("\"age\": \"<age>\",  \"namespace\": \"t-ab\",", "t-ab"),
        vec!["\"age\": \"<age>\", \"namespace\": \"<ns>\","]
    );
}

#[test]
fn committed_examples_match_the_binary() {
    let ns = Ns::new("status-examples");
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", T);
    wait_until("3 claims Bound", T, || {
        let v = ns.kubectl(&["get", "pvc", "-o", "json"]).json();
        v["items"]
            .as_array()
            .is_some_and(|a| a.len() == 3 && a.iter().all(|c| c["status"]["phase"] == "Bound"))
    });
    ns.kubectl(&["scale", "statefulset/web", "--replicas=2"])
        .expect_code(0);
    ns.wait_sts_settled("web", T);
    wait_until("web-2 gone", T, || {
        ns.kubectl(&["get", "pod", "web-2"]).code != 0
    });

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    for (file, args) in [
        ("status-web.txt", vec!["status", "web"]),
        ("status-web-wide.txt", vec!["status", "web", "-o", "wide"]),
        ("status-web-json.txt", vec!["status", "web", "-o", "json"]),
        ("status-fleet.txt", vec!["status"]),
    ] {
        let committed =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut lines = committed.lines();
        let cmd = lines.next().unwrap();
        assert_eq!(
            cmd,
            format!("$ kubectl sts {} -n sts-examples", args.join(" ")),
            "{file}: first line is the command"
        );
        let body: String = lines.collect::<Vec<_>>().join("\n");
        let mut a = args.clone();
        a.push("--color=never");
        let r = ns.sts(&a);
        r.expect_code(0);
        assert_eq!(
            mask(&r.stdout, &ns.name),
            mask(&body, "sts-examples"),
            "{file} drifted from the binary's output; regenerate with scripts/readme-examples\nnow:\n{}",
            r.stdout
        );
    }
}
