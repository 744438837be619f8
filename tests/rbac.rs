//! Permissions: a namespace viewer (ClusterRole `view` bound in its
//! namespace) gets the status views, while `canary` and `prune-pvcs` stop
//! before any change, naming the missing verb and resource (exit 3), and
//! leave the objects untouched.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::Ns;

const T: Duration = Duration::from_secs(240);

fn as_viewer(ns: &Ns, args: &[&str]) -> common::Run {
    let viewer = common::env()
        .viewer_kubeconfig
        .to_str()
        .unwrap()
        .to_string();
    let mut a = args.to_vec();
    a.extend_from_slice(&["-n", &ns.name, "--kubeconfig", &viewer]);
    common::sts(&a)
}

fn bind_viewer(ns: &Ns) {
    ns.kubectl(&[
        "create",
        "rolebinding",
        "viewer",
        "--clusterrole=view",
        "--user=sts-viewer",
    ])
    .expect_code(0);
    let viewer = common::env()
        .viewer_kubeconfig
        .to_str()
        .unwrap()
        .to_string();
    common::wait_until("the viewer can list statefulsets", T, || {
        common::kubectl(&[
            "--kubeconfig",
            &viewer,
            "get",
            "statefulsets",
            "-n",
            &ns.name,
        ])
        .code
            == 0
    });
}

#[test]
fn viewer_reads_but_cannot_change() {
    let ns = Ns::new("rbac-viewer");
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", T);
    bind_viewer(&ns);

    // Read: the full view, with notes for what a namespace viewer cannot read.
    let r = as_viewer(&ns, &["status", "web", "-o", "wide"]);
    r.expect_code(0);
    assert!(r.stdout.contains("web-2"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("note: not allowed to list persistentvolumes"),
        "{}",
        r.stdout
    );
    as_viewer(&ns, &["status"]).expect_code(0);

    // Canary: refused before any change.
    let before = ns.get("statefulset", "web")["metadata"]["resourceVersion"].clone();
    let r = as_viewer(
        &ns,
        &["canary", "web", "--image", "nginx=nginx:1.26", "--yes"],
    );
    r.expect_code(3);
    assert_eq!(
        r.stderr.lines().next().unwrap(),
        format!(
            "error: permission denied: cannot patch statefulsets.apps in namespace \"{}\"; nothing was changed",
            ns.name
        )
    );
    assert!(
        r.stderr
            .contains("hint: ask for the RBAC verb `patch` on `statefulsets.apps`"),
        "{}",
        r.stderr
    );
    let r = as_viewer(&ns, &["canary", "web", "--abort", "--yes"]);
    r.expect_code(3);
    assert_eq!(
        ns.get("statefulset", "web")["metadata"]["resourceVersion"],
        before,
        "the StatefulSet changed"
    );
    // The dry run needs no write rights.
    as_viewer(
        &ns,
        &["canary", "web", "--image", "nginx=nginx:1.26", "--dry-run"],
    )
    .expect_code(0);

    // Prune: the plan is shown, the deletion refused before any change.
    ns.kubectl(&["scale", "statefulset", "web", "--replicas=1"])
        .expect_code(0);
    ns.wait_sts_settled("web", T);
    let claims_before = ns.kubectl(&["get", "pvc", "-o", "name"]).stdout;
    let r = as_viewer(&ns, &["prune-pvcs", "--yes"]);
    r.expect_code(3);
    assert!(
        r.stdout.contains("data-web-2"),
        "the plan is still shown:\n{}",
        r.stdout
    );
    assert_eq!(
        r.stderr.lines().find(|l| l.starts_with("error:")).unwrap(),
        format!(
            "error: permission denied: cannot delete persistentvolumeclaims in namespace \"{}\"; nothing was changed",
            ns.name
        )
    );
    assert_eq!(
        ns.kubectl(&["get", "pvc", "-o", "name"]).stdout,
        claims_before,
        "claims changed"
    );
    as_viewer(&ns, &["prune-pvcs", "--dry-run"]).expect_code(0);
}
