//! `kubectl sts status NAME` against the sandbox.

mod common;

use std::time::Duration;

use common::Ns;

#[test]
fn healthy_web_lists_ordinals_in_order_with_nodes_and_bound_claims() {
    let ns = Ns::new("status-healthy");
    ns.apply(&common::web_yaml(&[]));
    ns.wait_sts_settled("web", Duration::from_secs(240));
    common::wait_until("3 claims Bound", Duration::from_secs(60), || {
        let v = ns.kubectl(&["get", "pvc", "-o", "json"]).json();
        v["items"]
            .as_array()
            .is_some_and(|a| a.len() == 3 && a.iter().all(|c| c["status"]["phase"] == "Bound"))
    });

    let r = ns.sts(&["status", "web"]);
    r.expect_code(0);
    let rows: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("web-")).collect();
    assert_eq!(rows.len(), 3, "{}", r.stdout);
    for (i, row) in rows.iter().enumerate() {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[0], format!("web-{i}"));
        assert_eq!(cols[1], "1/1");
        assert_eq!(cols[2], "Running");
        assert!(cols[5].starts_with("sandbox-worker-"), "node column: {row}");
        assert!(row.contains(&format!("data-web-{i} Bound 1Gi")), "{row}");
        assert!(row.ends_with(" ok"), "DNS column: {row}");
        // The default view fits 120 columns for 3 replicas, one template.
        assert!(
            row.chars().count() <= 120,
            "{} columns: {row}",
            row.chars().count()
        );
    }
    assert!(
        r.stdout.contains(&format!(
            "DNS <pod>.nginx-headless.{}.svc.cluster.local",
            ns.name
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Health:     Healthy\n"), "{}", r.stdout);
    assert!(r.stdout.contains("No problems found."), "{}", r.stdout);
    let wide = ns.sts(&["status", "web", "-o", "wide"]);
    wide.expect_code(0);
    for i in 0..3 {
        assert!(
            wide.stdout.contains(&format!(
                "web-{i}.nginx-headless.{}.svc.cluster.local ok",
                ns.name
            )),
            "{}",
            wide.stdout
        );
    }

    let j = ns
        .sts(&["status", "web", "-o", "json"])
        .expect_code(0)
        .json();
    assert_eq!(j["apiVersion"], "kubectl-sts/v1");
    assert_eq!(j["kind"], "StatefulSetStatus");
    let ords: Vec<i64> = j["ordinals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["ordinal"].as_i64().unwrap())
        .collect();
    assert_eq!(ords, vec![0, 1, 2]);
    for o in j["ordinals"].as_array().unwrap() {
        assert_eq!(o["pod"]["ready"], true);
        assert!(
            o["pod"]["node"]
                .as_str()
                .unwrap()
                .starts_with("sandbox-worker-")
        );
        assert_eq!(o["claims"][0]["phase"], "Bound");
    }
    assert_eq!(j["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn nonexistent_statefulset_is_one_line_and_exit_3() {
    let ns = Ns::new("status-missing");
    let r = ns.sts(&["status", "nope"]);
    r.expect_code(3);
    assert_eq!(
        r.stderr.lines().collect::<Vec<_>>(),
        vec![
            format!(
                "error: statefulset \"nope\" not found in namespace \"{}\"",
                ns.name
            )
            .as_str(),
            format!(
                "hint: list them with: kubectl get statefulsets -n {}",
                ns.name
            )
            .as_str(),
        ]
    );
    assert!(r.stdout.is_empty());
}
