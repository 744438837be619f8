//! Text for `prune-pvcs`: the plan tables and the deletion report.

use super::Style;
use super::statefulset::{plain_table, table_text};
use crate::ops::prune::{Done, Entry, Fate, Plan};

fn reclaim_cell(e: &Entry, st: &Style) -> String {
    match (&e.volume, e.reclaim_policy.as_deref()) {
        (None, _) => "-".to_string(),
        (Some(_), Some("Delete")) => st.red("Delete (data destroyed)"),
        (Some(_), Some("Retain")) => st.green("Retain (PV kept)"),
        (Some(_), Some(other)) => other.to_string(),
        (Some(_), None) => "unknown".to_string(),
    }
}

fn entries_table(es: &[Entry], all_ns: bool, full: bool, st: &Style) -> String {
    let mut h: Vec<String> = Vec::new();
    if all_ns {
        h.push("NAMESPACE".into());
    }
    h.extend(["CLAIM", "STATEFULSET", "ORDINAL"].map(String::from));
    if full {
        h.extend(
            [
                "PHASE",
                "CAPACITY",
                "STORAGECLASS",
                "VOLUME",
                "RECLAIM",
                "AGE",
            ]
            .map(String::from),
        );
    }
    h.push("REASON".into());
    let mut t = plain_table(h);
    for e in es {
        let mut row: Vec<String> = Vec::new();
        if all_ns {
            row.push(e.namespace.clone());
        }
        row.push(e.claim.clone());
        row.push(e.statefulsets.join(","));
        row.push(e.ordinal.to_string());
        if full {
            row.push(e.phase.clone());
            row.push(e.capacity.clone().unwrap_or_else(|| "-".into()));
            row.push(e.storage_class.clone().unwrap_or_else(|| "-".into()));
            row.push(e.volume.clone().unwrap_or_else(|| "-".into()));
            row.push(reclaim_cell(e, st));
            row.push(e.age.clone());
        }
        row.push(e.reason.clone());
        t.add_row(row);
    }
    table_text(&mut t)
}

/// The plan as text: candidates, weaker candidates, skipped claims.
pub fn plan_text(p: &Plan, all_ns: bool, st: &Style) -> String {
    let mut out = String::new();
    if p.candidates.is_empty() && p.weak_candidates.is_empty() {
        out.push_str("No left-behind PersistentVolumeClaims to delete.\n");
    }
    if !p.candidates.is_empty() {
        out.push_str(&st.bold(&format!(
            "Claims left behind by scale-down ({}):",
            p.candidates.len()
        )));
        out.push('\n');
        out.push_str(&entries_table(&p.candidates, all_ns, true, st));
        out.push('\n');
    }
    if !p.weak_candidates.is_empty() {
        out.push('\n');
        out.push_str(&st.bold(&format!(
            "Claims of deleted StatefulSets or removed templates ({}, weaker evidence: labels and name shape):",
            p.weak_candidates.len()
        )));
        out.push('\n');
        out.push_str(&entries_table(&p.weak_candidates, all_ns, true, st));
        out.push('\n');
    }
    if !p.skipped.is_empty() {
        out.push('\n');
        out.push_str(&st.bold(&format!("Skipped ({}), never deleted:", p.skipped.len())));
        out.push('\n');
        out.push_str(&entries_table(&p.skipped, all_ns, false, st));
        out.push('\n');
    }
    let destroys = p.deletable().filter(|e| e.destroys_data).count();
    if destroys > 0 {
        out.push('\n');
        out.push_str(&st.red(&format!(
            "Deleting {destroys} of these claims deletes their PersistentVolumes and the data on them (reclaim policy Delete)."
        )));
        out.push('\n');
    }
    out
}

/// The report lines for one planned claim (warnings included).
pub fn done_text(d: &Done, server_dry_run: bool, st: &Style) -> String {
    let mut out = String::new();
    let verb = if server_dry_run {
        "deleted (server dry run)"
    } else {
        "deleted"
    };
    let who = format!("{}/{}", d.namespace, d.claim);
    match d.result {
        Fate::Deleted => {
            let data = match (&d.volume, d.destroys_data) {
                (Some(v), true) if server_dry_run => format!(" (would delete PV {v} and its data)"),
                (Some(v), true) => format!(" (PV {v} and its data deleted)"),
                (Some(v), false) => format!(" (PV {v} kept)"),
                (None, _) => String::new(),
            };
            out.push_str(&format!("{} {who}{data}\n", st.green(verb)));
        }
        Fate::Skipped => out.push_str(&format!("{} {who}: {}\n", st.yellow("skipped"), d.reason)),
        Fate::Failed => out.push_str(&format!("{} {who}: {}\n", st.red("failed"), d.reason)),
    }
    out.push_str(&warnings(d, st));
    out
}

fn warnings(d: &Done, st: &Style) -> String {
    let who = format!("{}/{}", d.namespace, d.claim);
    let mut out = String::new();
    if let Some(back) = &d.came_back_in_range {
        out.push_str(&format!(
            "{} {who} was deleted but {back}: its pod will start with a new, empty claim\n",
            st.red_bold("WARNING:")
        ));
    }
    if !d.mounted_after.is_empty() {
        out.push_str(&format!(
            "{} {who} is now mounted by pod {}: it stays Terminating until that pod is gone\n",
            st.red_bold("WARNING:"),
            d.mounted_after.join(", ")
        ));
    }
    out
}

/// The closing summary: counts, and every warning again.
pub fn summary_text(done: &[Done], st: &Style) -> String {
    let mut out = String::new();
    for d in done {
        out.push_str(&warnings(d, st));
    }
    let n = |f: Fate| done.iter().filter(|d| d.result == f).count();
    out.push_str(&format!(
        "{} deleted, {} skipped, {} failed",
        n(Fate::Deleted),
        n(Fate::Skipped),
        n(Fate::Failed)
    ));
    let back = done
        .iter()
        .filter(|d| d.came_back_in_range.is_some())
        .count();
    if back > 0 {
        out.push_str(&format!(", {back} came back into range"));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::prune::Evidence;

    fn entry(claim: &str, reclaim: Option<&str>) -> Entry {
        Entry {
            namespace: "ns".into(),
            claim: claim.into(),
            uid: "u".into(),
            resource_version: "1".into(),
            evidence: Evidence::OutOfRange,
            statefulsets: vec!["web".into()],
            template: "data".into(),
            ordinal: 2,
            phase: "Bound".into(),
            capacity: Some("1Gi".into()),
            storage_class: Some("standard".into()),
            volume: Some("pv-1".into()),
            reclaim_policy: reclaim.map(String::from),
            destroys_data: reclaim == Some("Delete"),
            created: None,
            age: "3d".into(),
            reason: "ordinal 2 outside [0, 2) of web".into(),
        }
    }

    #[test]
    fn plan_says_plainly_when_data_is_destroyed() {
        let p = Plan {
            candidates: vec![
                entry("data-web-2", Some("Delete")),
                entry("data-web-3", Some("Retain")),
            ],
            ..Plan::default()
        };
        let t = plan_text(&p, false, &Style { color: false });
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "Claims left behind by scale-down (2):");
        assert!(
            lines[1].starts_with("CLAIM ")
                && lines[1].contains("RECLAIM")
                && lines[1].ends_with("REASON"),
            "{t}"
        );
        assert!(
            lines[2].contains("pv-1")
                && lines[2].contains("Delete (data destroyed)")
                && lines[2].contains("3d"),
            "{t}"
        );
        assert!(lines[3].contains("Retain (PV kept)"), "{t}");
        assert!(
            t.contains("Deleting 1 of these claims deletes their PersistentVolumes"),
            "{t}"
        );
        let empty = plan_text(&Plan::default(), false, &Style { color: false });
        assert_eq!(empty, "No left-behind PersistentVolumeClaims to delete.\n");
    }

    #[test]
    fn summary_counts_and_repeats_warnings() {
        let mut d = Done {
            namespace: "ns".into(),
            claim: "data-web-2".into(),
            result: Fate::Deleted,
            reason: String::new(),
            volume: Some("pv-1".into()),
            destroys_data: true,
            came_back_in_range: Some("ordinal 2 is live again in web ([0, 3))".into()),
            mounted_after: vec![],
        };
        let st = Style { color: false };
        assert_eq!(
            done_text(&d, false, &st),
            "deleted ns/data-web-2 (PV pv-1 and its data deleted)\nWARNING: ns/data-web-2 was deleted but ordinal 2 is live again in web ([0, 3)): its pod will start with a new, empty claim\n"
        );
        let s = summary_text(std::slice::from_ref(&d), &st);
        assert!(
            s.ends_with("1 deleted, 0 skipped, 0 failed, 1 came back into range\n"),
            "{s}"
        );
        d.came_back_in_range = None;
        d.result = Fate::Skipped;
        d.reason = "changed: mounted by pod x".into();
        assert_eq!(summary_text(&[d], &st), "0 deleted, 1 skipped, 0 failed\n");
    }
}
