//! Text for `prune-pvcs`: the plan tables and the deletion report.

use super::Style;
use super::statefulset::{plain_table, table_text};
use crate::ops::prune::{Done, Entry, Fate, Mode, Plan};

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

fn claims(n: usize) -> String {
    if n == 1 {
        "1 claim".to_string()
    } else {
        format!("{n} claims")
    }
}

/// What deleting the planned claims does to their volumes, said plainly
/// (`None` when no planned claim has reclaim policy Delete).
fn data_sentence(p: &Plan, mode: Mode) -> Option<String> {
    let n = p.deletable().count();
    let destroys = p.deletable().filter(|e| e.destroys_data).count();
    let verb = if mode == Mode::Delete {
        "deletes"
    } else {
        "would delete"
    };
    match (n, destroys) {
        (_, 0) => None,
        (1, 1) => Some(format!(
            "Deleting this claim {verb} its PersistentVolume and the data on it (reclaim policy Delete)."
        )),
        (n, d) if n == d => Some(format!(
            "Deleting these {n} claims {verb} their PersistentVolumes and the data on them (reclaim policy Delete)."
        )),
        (n, 1) => Some(format!(
            "1 of these {n} claims has reclaim policy Delete: deleting it {verb} its PersistentVolume and the data on it."
        )),
        (n, d) => Some(format!(
            "{d} of these {n} claims have reclaim policy Delete: deleting them {verb} their PersistentVolumes and the data on them."
        )),
    }
}

/// The plan as text: candidates, weaker candidates, skipped claims, what
/// deleting them does to the data, and, for `--dry-run`, the closing count
/// ("would delete N claims, M skipped (dry run)").
pub fn plan_text(p: &Plan, all_ns: bool, mode: Mode, st: &Style) -> String {
    let mut out = String::new();
    if p.candidates.is_empty() && p.weak_candidates.is_empty() {
        if p.skipped.is_empty() {
            out.push_str("No left-behind PersistentVolumeClaims to delete.\n");
        } else {
            out.push_str(&format!(
                "No left-behind PersistentVolumeClaims to delete: {} never deleted.\n",
                if p.skipped.len() == 1 {
                    "the 1 found is".to_string()
                } else {
                    format!("all {} found are", p.skipped.len())
                }
            ));
        }
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
    if let Some(data) = data_sentence(p, mode) {
        out.push('\n');
        out.push_str(&st.red(&data));
        out.push('\n');
    }
    if mode == Mode::DryRun {
        out.push('\n');
        out.push_str(&format!(
            "would delete {}, {} skipped{}\n",
            claims(p.deletable().count()),
            p.skipped.len(),
            mode.suffix()
        ));
    }
    out
}

/// The report lines for one planned claim (warnings included).
pub fn done_text(d: &Done, mode: Mode, st: &Style) -> String {
    let mut out = String::new();
    let who = format!("{}/{}", d.namespace, d.claim);
    let dry = mode == Mode::ServerDryRun;
    match d.result {
        Fate::Deleted => {
            let data = match (&d.volume, d.destroys_data) {
                (Some(v), true) if dry => format!(": would delete PV {v} and its data"),
                (Some(v), true) => format!(" (PV {v} and its data deleted)"),
                (Some(v), false) if dry => format!(": PV {v} would be kept"),
                (Some(v), false) => format!(" (PV {v} kept)"),
                (None, _) => String::new(),
            };
            out.push_str(&format!(
                "{} {who}{}{data}\n",
                st.green("deleted"),
                mode.suffix()
            ));
        }
        Fate::Skipped => out.push_str(&format!(
            "{} {who}{}: {}\n",
            st.yellow("skipped"),
            mode.suffix(),
            d.reason
        )),
        Fate::Failed => out.push_str(&format!(
            "{} {who}{}: {}\n",
            st.red("failed"),
            mode.suffix(),
            d.reason
        )),
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

/// The closing summary: every warning again, then the counts. `skipped`
/// counts the claims the plan never deletes as well as those skipped at
/// the final re-check, so the numbers add up to the plan; `not_chosen` are
/// candidates left out at the prompt.
pub fn summary_text(
    done: &[Done],
    plan_skipped: usize,
    not_chosen: usize,
    mode: Mode,
    st: &Style,
) -> String {
    let mut out = String::new();
    for d in done {
        out.push_str(&warnings(d, st));
    }
    let n = |f: Fate| done.iter().filter(|d| d.result == f).count();
    let deleted = n(Fate::Deleted);
    if mode == Mode::Delete {
        out.push_str(&format!("{deleted} deleted"));
    } else {
        out.push_str(&format!("would delete {}", claims(deleted)));
    }
    out.push_str(&format!(
        ", {} skipped, {} failed",
        plan_skipped + n(Fate::Skipped),
        n(Fate::Failed)
    ));
    if not_chosen > 0 {
        out.push_str(&format!(", {not_chosen} not chosen"));
    }
    let back = done
        .iter()
        .filter(|d| d.came_back_in_range.is_some())
        .count();
    if back > 0 {
        out.push_str(&format!(", {back} came back into range"));
    }
    out.push_str(mode.suffix());
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
            reason: "ordinal 2 outside 0..1 of web".into(),
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
        let t = plan_text(&p, false, Mode::Delete, &Style { color: false });
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
            t.ends_with("\n1 of these 2 claims has reclaim policy Delete: deleting it deletes its PersistentVolume and the data on it.\n"),
            "{t}"
        );
        let empty = plan_text(
            &Plan::default(),
            false,
            Mode::Delete,
            &Style { color: false },
        );
        assert_eq!(empty, "No left-behind PersistentVolumeClaims to delete.\n");
    }

    #[test]
    fn dry_runs_say_so_and_count_as_the_plan() {
        let st = Style { color: false };
        let p = Plan {
            candidates: vec![
                entry("data-web-2", Some("Delete")),
                entry("data-web-3", Some("Delete")),
            ],
            skipped: vec![entry("data-web-4", Some("Delete"))],
            ..Plan::default()
        };
        let t = plan_text(&p, false, Mode::DryRun, &st);
        assert!(t.contains("Skipped (1), never deleted:"), "{t}");
        assert!(
            t.ends_with("\nDeleting these 2 claims would delete their PersistentVolumes and the data on them (reclaim policy Delete).\n\nwould delete 2 claims, 1 skipped (dry run)\n"),
            "{t}"
        );
        let t = plan_text(&p, false, Mode::ServerDryRun, &st);
        assert!(t.contains("would delete their PersistentVolumes"), "{t}");
        assert!(!t.contains("(dry run)"), "{t}");
        let only_skipped = Plan {
            skipped: vec![entry("data-web-4", None)],
            ..Plan::default()
        };
        let t = plan_text(&only_skipped, false, Mode::DryRun, &st);
        assert!(
            t.starts_with(
                "No left-behind PersistentVolumeClaims to delete: the 1 found is never deleted.\n"
            ),
            "{t}"
        );
        assert!(
            t.ends_with("would delete 0 claims, 1 skipped (dry run)\n"),
            "{t}"
        );
        let single = Plan {
            candidates: vec![entry("data-web-2", Some("Delete"))],
            ..Plan::default()
        };
        assert!(
            plan_text(&single, false, Mode::Delete, &st).contains(
                "Deleting this claim deletes its PersistentVolume and the data on it (reclaim policy Delete)."
            )
        );
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
            came_back_in_range: Some("ordinal 2 is live again in web (0..2)".into()),
            mounted_after: vec![],
        };
        let st = Style { color: false };
        assert_eq!(
            done_text(&d, Mode::Delete, &st),
            "deleted ns/data-web-2 (PV pv-1 and its data deleted)\nWARNING: ns/data-web-2 was deleted but ordinal 2 is live again in web (0..2): its pod will start with a new, empty claim\n"
        );
        let s = summary_text(std::slice::from_ref(&d), 2, 0, Mode::Delete, &st);
        assert!(
            s.ends_with("1 deleted, 2 skipped, 0 failed, 1 came back into range\n"),
            "{s}"
        );
        d.came_back_in_range = None;
        assert_eq!(
            done_text(&d, Mode::ServerDryRun, &st),
            "deleted ns/data-web-2 (server dry run): would delete PV pv-1 and its data\n"
        );
        assert_eq!(
            summary_text(std::slice::from_ref(&d), 1, 0, Mode::ServerDryRun, &st),
            "would delete 1 claim, 1 skipped, 0 failed (server dry run)\n"
        );
        d.result = Fate::Skipped;
        d.reason = "changed: mounted by pod x".into();
        assert_eq!(
            summary_text(&[d], 0, 2, Mode::Delete, &st),
            "0 deleted, 1 skipped, 0 failed, 2 not chosen\n"
        );
    }
}
