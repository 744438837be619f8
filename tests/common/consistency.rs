//! The invariant every status scenario must hold: one model of health
//! behind every view. For a namespace, the fleet line of each object agrees
//! with its detailed view (verdict, reason, worst severity), `--fail-on`
//! gives the same exit code both ways, the out-of-range claim warnings of a
//! StatefulSet are exactly prune-pvcs' candidates, and every finding and
//! pod the table shows is in the JSON.

use serde_json::Value;

use super::Ns;

fn fail_on_code(ns: &Ns, target: Option<&str>, level: &str) -> i32 {
    let mut args = vec!["status"];
    if let Some(t) = target {
        args.push(t);
    }
    args.extend(["--fail-on", level]);
    let r = ns.sts(&args);
    assert!(
        r.code == 0 || r.code == 1,
        "status {args:?}: exit {}\n{}",
        r.code,
        r.stderr
    );
    r.code
}

/// Asserts the invariant over every StatefulSet and DaemonSet in `ns`.
/// Returns the fleet document. The views are separate reads of a live
/// cluster, so each comparison is made on reads taken while nothing changed
/// (two fleet reads alike around it); it is retried a few times otherwise.
pub fn assert_consistent(ns: &Ns) -> Value {
    let mut last = String::new();
    for _ in 0..15 {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(ns))) {
            Ok(Some(fleet)) => return fleet,
            Ok(None) => last = "the namespace kept changing".into(),
            Err(e) => {
                last = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
            }
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
    panic!("consistency in {}: {last}", ns.name);
}

fn fleet_json(ns: &Ns) -> Value {
    let r = ns.sts(&["status", "-o", "json"]);
    r.expect_code(0);
    r.json()
}

/// One attempt: `None` when the fleet changed while it was being checked.
fn check(ns: &Ns) -> Option<Value> {
    let fleet = fleet_json(ns);
    let items = fleet["items"].as_array().cloned().unwrap_or_default();
    assert!(!items.is_empty(), "no sets in {}", ns.name);
    let mut worst_named = [0, 0];
    for item in &items {
        let kind = if item["kind"] == "StatefulSet" {
            "sts"
        } else {
            "ds"
        };
        let target = format!("{kind}/{}", item["name"].as_str().unwrap());
        let named = ns.sts(&["status", &target, "-o", "json"]);
        named.expect_code(0);
        let named = named.json();
        let v = &named["verdict"];
        assert_eq!(
            item["verdict"], v["health"],
            "{target}: fleet {item}\nnamed {v}"
        );
        assert_eq!(item["reason"], v["reason"], "{target}");
        assert_eq!(item["worst"], v["worst"], "{target}");
        for (i, level) in ["warning", "error"].iter().enumerate() {
            let code = fail_on_code(ns, Some(&target), level);
            let want = match (level, v["worst"].as_str()) {
                (_, Some("error")) => 1,
                (&"warning", Some("warning")) => 1,
                _ => 0,
            };
            assert_eq!(
                code, want,
                "{target} --fail-on {level}: worst {}",
                v["worst"]
            );
            worst_named[i] = worst_named[i].max(code);
        }
        // The table shows what the JSON holds, and only that.
        let table = ns.sts(&["status", &target]);
        table.expect_code(0);
        let findings = named["findings"].as_array().cloned().unwrap_or_default();
        for f in &findings {
            let msg = f["message"].as_str().unwrap();
            assert!(
                table.stdout.contains(msg),
                "{target}: table lacks {msg:?}\n{}",
                table.stdout
            );
            for o in f["objects"].as_array().into_iter().flatten() {
                assert!(
                    table.stdout.contains(o.as_str().unwrap()),
                    "{target}: table lacks {o}"
                );
            }
        }
        let shown = table
            .stdout
            .lines()
            .filter(|l| {
                l.starts_with("ERROR ") || l.starts_with("WARNING ") || l.starts_with("INFO ")
            })
            .count();
        assert_eq!(
            shown,
            findings.len(),
            "{target}: table rows vs JSON findings\n{}",
            table.stdout
        );
        if kind == "sts" {
            for o in named["ordinals"].as_array().into_iter().flatten() {
                if let Some(p) = o["pod"]["name"].as_str() {
                    assert!(table.stdout.contains(p), "{target}: table lacks pod {p}");
                }
            }
            // Out-of-range warnings are exactly prune's candidates.
            // One warning per set, naming its claims after the last ": ".
            let mut warned: Vec<String> = findings
                .iter()
                .filter(|f| f["id"] == "pvc.out_of_range")
                .flat_map(|f| {
                    let m = f["message"].as_str().unwrap();
                    let list = m.rsplit_once(": ").map(|(_, l)| l).unwrap_or("");
                    list.split(", ").map(str::to_string).collect::<Vec<_>>()
                })
                .collect();
            let plan = ns.sts(&[
                "prune-pvcs",
                item["name"].as_str().unwrap(),
                "--dry-run",
                "-o",
                "json",
            ]);
            plan.expect_code(0);
            let mut candidates: Vec<String> = plan.json()["candidates"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c["claim"].as_str().unwrap().to_string())
                .collect();
            warned.sort();
            candidates.sort();
            assert_eq!(
                warned, candidates,
                "{target}: status warnings vs prune candidates"
            );
        }
    }
    for (i, level) in ["warning", "error"].iter().enumerate() {
        assert_eq!(
            fail_on_code(ns, None, level),
            worst_named[i],
            "fleet --fail-on {level} in {}",
            ns.name
        );
    }
    (fleet_json(ns)["items"] == fleet["items"]).then_some(fleet)
}
