//! Prune planning: which PersistentVolumeClaims did scale-down leave behind,
//! and which of them is it safe to delete (controller-semantics.md B2, B11).
//!
//! Pure: plain k8s-openapi objects in, a [`Plan`] out, `now` as a parameter.
//! The rules themselves live in [`crate::analysis::claims_policy`], shared
//! with `status`; the same [`assess`] runs for the plan and for the re-check
//! right before each DELETE, so both apply exactly the same rules.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use crate::analysis::claims_policy::{self as policy, Judgement, Rules};
pub use crate::analysis::claims_policy::{Evidence, Inputs, OPT_OUT_ANNOTATION, OPT_OUT_VALUE};
use crate::analysis::statefulset::claims::match_claim;
use crate::analysis::statefulset::{live_range, template_names};

/// Planner options (from the command line).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only claims of this StatefulSet.
    pub name: Option<String>,
    /// Also claims of deleted StatefulSets and removed templates.
    pub include_deleted: bool,
    /// Claims of a StatefulSet scaled to 0 are candidates too.
    pub include_scaled_to_zero: bool,
    /// Do not protect claims below an HPA's maxReplicas.
    pub ignore_autoscaler: bool,
    /// Only claims at least this many seconds old.
    pub older_than: Option<i64>,
}

impl Options {
    /// The claim rules these options select.
    pub fn rules(&self) -> Rules {
        Rules {
            include_deleted: self.include_deleted,
            include_scaled_to_zero: self.include_scaled_to_zero,
            ignore_autoscaler: self.ignore_autoscaler,
            older_than: self.older_than,
        }
    }
}

/// One claim in the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub namespace: String,
    pub claim: String,
    pub uid: String,
    pub resource_version: String,
    pub evidence: Evidence,
    /// The StatefulSet(s) that own the name (or the guessed one).
    pub statefulsets: Vec<String>,
    pub template: String,
    pub ordinal: i32,
    pub phase: String,
    pub capacity: Option<String>,
    pub storage_class: Option<String>,
    pub volume: Option<String>,
    /// The bound PV's reclaim policy (`None` when unbound or unreadable).
    pub reclaim_policy: Option<String>,
    /// Deleting the claim deletes the volume and its data (reclaim Delete).
    pub destroys_data: bool,
    pub created: Option<String>,
    pub age: String,
    /// Why it is a candidate, or why it is skipped.
    pub reason: String,
}

/// The plan: candidates (strong), weaker candidates, and skipped claims.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub candidates: Vec<Entry>,
    pub weak_candidates: Vec<Entry>,
    pub skipped: Vec<Entry>,
}

impl Plan {
    /// Every candidate that will be offered for deletion, in order.
    pub fn deletable(&self) -> impl Iterator<Item = &Entry> {
        self.candidates.iter().chain(self.weak_candidates.iter())
    }
}

/// The verdict on one claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Candidate(Entry),
    Skipped(Entry),
}

/// Builds the plan over every claim in `inp`.
pub fn plan(inp: &Inputs<'_>, opts: &Options, now: Timestamp) -> Plan {
    let mut p = Plan::default();
    for pvc in inp.claims {
        match assess(pvc, inp, opts, now) {
            Some(Verdict::Candidate(e)) if e.evidence.is_strong() => p.candidates.push(e),
            Some(Verdict::Candidate(e)) => p.weak_candidates.push(e),
            Some(Verdict::Skipped(e)) => p.skipped.push(e),
            None => {}
        }
    }
    let key = |e: &Entry| {
        (
            e.namespace.clone(),
            e.statefulsets.first().cloned(),
            e.template.clone(),
            e.ordinal,
            e.claim.clone(),
        )
    };
    p.candidates.sort_by_key(key);
    p.weak_candidates.sort_by_key(key);
    p.skipped.sort_by_key(key);
    p
}

fn ns_of<K: kube::Resource>(k: &K) -> &str {
    k.meta().namespace.as_deref().unwrap_or("")
}

fn name_of<K: kube::Resource>(k: &K) -> &str {
    k.meta().name.as_deref().unwrap_or("")
}

fn fmt_range(r: &std::ops::Range<i32>) -> String {
    crate::analysis::statefulset::ordinal_range(r)
}

/// Assesses one claim with the shared rules: `None` when it is not a
/// left-behind claim at all (live, not a StatefulSet claim, or not of the
/// StatefulSet named in `opts`), else a candidate or a skip.
pub fn assess(
    pvc: &PersistentVolumeClaim,
    inp: &Inputs<'_>,
    opts: &Options,
    now: Timestamp,
) -> Option<Verdict> {
    let (left, keep) = match policy::judge(pvc, inp, &opts.rules(), now) {
        Judgement::Unrelated | Judgement::Live => return None,
        Judgement::Candidate(l) => (l, Vec::new()),
        Judgement::Kept(l, k) => (l, k),
    };
    if let Some(n) = &opts.name
        && !left.statefulsets.contains(n)
    {
        return None;
    }
    let st = pvc.status.clone().unwrap_or_default();
    let volume = pvc
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .filter(|v| !v.is_empty());
    let pv = volume.as_ref().and_then(|v| {
        inp.volumes
            .and_then(|vs| vs.iter().find(|p| name_of(*p) == v))
    });
    let reclaim_policy = pv
        .and_then(|p| p.spec.as_ref())
        .and_then(|s| s.persistent_volume_reclaim_policy.clone());
    let created = pvc.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let entry = Entry {
        namespace: ns_of(pvc).to_string(),
        claim: name_of(pvc).to_string(),
        uid: pvc.metadata.uid.clone().unwrap_or_default(),
        resource_version: pvc.metadata.resource_version.clone().unwrap_or_default(),
        evidence: left.evidence,
        statefulsets: left.statefulsets,
        template: left.template,
        ordinal: left.ordinal,
        phase: st.phase.clone().unwrap_or_else(|| "Pending".to_string()),
        capacity: st
            .capacity
            .as_ref()
            .and_then(|c| c.get("storage"))
            .map(|q| q.0.clone()),
        storage_class: pvc.spec.as_ref().and_then(|s| s.storage_class_name.clone()),
        destroys_data: reclaim_policy.as_deref() == Some("Delete"),
        reclaim_policy,
        volume,
        created: created.map(|c| c.to_string()),
        age: crate::analysis::pod::age(created, now),
        reason: if keep.is_empty() {
            left.origin.to_string()
        } else {
            policy::sentence(&keep)
        },
    };
    Some(if keep.is_empty() {
        Verdict::Candidate(entry)
    } else {
        Verdict::Skipped(entry)
    })
}

/// What happened to one planned claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Fate {
    Deleted,
    Skipped,
    Failed,
}

/// One line of the report after deleting.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Done {
    pub namespace: String,
    pub claim: String,
    pub result: Fate,
    pub reason: String,
    pub volume: Option<String>,
    pub destroys_data: bool,
    /// After the DELETE, the claim's ordinal was live again in a StatefulSet.
    pub came_back_in_range: Option<String>,
    /// After the DELETE, pods that mount the claim (it stays Terminating).
    pub mounted_after: Vec<String>,
}

impl Done {
    /// A failed or skipped deletion, or one that came back into range.
    pub fn is_bad(&self) -> bool {
        self.result != Fate::Deleted || self.came_back_in_range.is_some()
    }
}

/// The `-o json|yaml` document.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// "client", "server" or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<&'static str>,
    #[serde(flatten)]
    pub plan: Plan,
    pub notes: Vec<String>,
    /// Present once deletion ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<Done>>,
}

/// Whether the run deletes, or only shows or validates what it would delete.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Delete the chosen claims.
    #[default]
    Delete,
    /// `--dry-run`: print the plan, send nothing that changes state.
    DryRun,
    /// `--dry-run=server`: send every DELETE with `dryRun=All`.
    ServerDryRun,
}

impl Mode {
    /// The `dryRun` field of the document.
    pub fn as_doc(self) -> Option<&'static str> {
        match self {
            Mode::Delete => None,
            Mode::DryRun => Some("client"),
            Mode::ServerDryRun => Some("server"),
        }
    }

    /// kubectl's suffix: `(dry run)`, `(server dry run)`, or nothing.
    pub fn suffix(self) -> &'static str {
        match self {
            Mode::Delete => "",
            Mode::DryRun => " (dry run)",
            Mode::ServerDryRun => " (server dry run)",
        }
    }
}

impl Document {
    pub fn new(plan: Plan, notes: Vec<String>, mode: Mode) -> Document {
        Document {
            api_version: "kubectl-sts/v1",
            kind: "PrunePlan",
            dry_run: mode.as_doc(),
            plan,
            notes,
            results: None,
        }
    }
}

/// Whether `ordinal` is live again in one of `sets` (by name) in `ns`.
pub fn back_in_range(entry: &Entry, sets: &[StatefulSet]) -> Option<String> {
    sets.iter()
        .filter(|s| {
            ns_of(*s) == entry.namespace && entry.statefulsets.iter().any(|n| n == name_of(*s))
        })
        .find(|s| {
            let owns = entry.evidence != Evidence::OutOfRange
                || match_claim(&entry.claim, name_of(*s), &template_names(s)).is_some();
            owns && live_range(s).contains(&entry.ordinal)
        })
        .map(|s| {
            format!(
                "ordinal {} is live again in {} ({})",
                entry.ordinal,
                name_of(s),
                fmt_range(&live_range(s))
            )
        })
}

/// Pods in the entry's namespace that mount its claim.
pub fn mounted_by(entry: &Entry, pods: &[Pod]) -> Vec<String> {
    pods.iter()
        .filter(|p| ns_of(*p) == entry.namespace && policy::mounts(p, &entry.claim))
        .map(|p| name_of(p).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::core::v1::PersistentVolume;
    use serde_json::{Value, json};

    fn now() -> Timestamp {
        "2026-01-02T00:00:00Z".parse().unwrap_or_default()
    }

    fn sts(
        name: &str,
        templates: &[&str],
        replicas: i32,
        start: Option<i32>,
        extra: Value,
    ) -> StatefulSet {
        let mut v = json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "generation": 2},
            "spec": {
                "replicas": replicas,
                "ordinals": start.map(|s| json!({"start": s})),
                "selector": {"matchLabels": {"app": name}},
                "serviceName": name,
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": []}},
                "volumeClaimTemplates": templates.iter().map(|t| json!({"metadata": {"name": t}})).collect::<Vec<_>>()
            },
            "status": {"replicas": replicas, "observedGeneration": 2}
        });
        merge(&mut v, extra);
        serde_json::from_value(v).unwrap_or_default()
    }

    fn merge(a: &mut Value, b: Value) {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(Value::Null), v);
                }
            }
            (a, b) => *a = b,
        }
    }

    fn pvc(name: &str, extra: Value) -> PersistentVolumeClaim {
        let mut v = json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "resourceVersion": "7",
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"volumeName": format!("pv-{name}"), "storageClassName": "standard"},
            "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}
        });
        merge(&mut v, extra);
        serde_json::from_value(v).unwrap_or_default()
    }

    fn pv(name: &str, policy: &str) -> PersistentVolume {
        serde_json::from_value(
            json!({"metadata": {"name": name}, "spec": {"persistentVolumeReclaimPolicy": policy}}),
        )
        .unwrap_or_default()
    }

    fn pod(name: &str, owner: Option<&str>, claim: Option<&str>) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "ns",
                "ownerReferences": owner.map(|o| vec![json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": o, "uid": format!("uid-{o}"), "controller": true})])},
            "spec": {"containers": [], "volumes": claim.map(|c| vec![json!({"name": "d", "persistentVolumeClaim": {"claimName": c}})])}
        }))
        .unwrap_or_default()
    }

    fn run(
        sets: &[StatefulSet],
        pods: &[Pod],
        claims: &[PersistentVolumeClaim],
        opts: &Options,
    ) -> Plan {
        let vols: Vec<PersistentVolume> = claims
            .iter()
            .map(|c| pv(&format!("pv-{}", name_of(c)), "Delete"))
            .collect();
        plan(
            &Inputs {
                sets,
                pods,
                claims,
                volumes: Some(&vols),
                hpas: &[],
            },
            opts,
            now(),
        )
    }

    fn names(es: &[Entry]) -> Vec<&str> {
        es.iter().map(|e| e.claim.as_str()).collect()
    }

    fn web_claims(n: i32) -> Vec<PersistentVolumeClaim> {
        (0..n)
            .map(|i| pvc(&format!("data-web-{i}"), json!({})))
            .collect()
    }

    #[test]
    fn scaled_down_claims_are_candidates_with_volume_facts() {
        let sets = [sts("web", &["data"], 1, None, json!({}))];
        let pods = [pod("web-0", Some("web"), Some("data-web-0"))];
        let p = run(&sets, &pods, &web_claims(3), &Options::default());
        assert_eq!(names(&p.candidates), vec!["data-web-1", "data-web-2"]);
        assert!(p.skipped.is_empty());
        let e = &p.candidates[0];
        assert_eq!(e.ordinal, 1);
        assert_eq!(e.volume.as_deref(), Some("pv-data-web-1"));
        assert_eq!(e.reclaim_policy.as_deref(), Some("Delete"));
        assert!(e.destroys_data);
        assert_eq!(e.age, "24h");
        assert_eq!(e.reason, "ordinal 1 outside 0..0 of web");
    }

    #[test]
    fn start_ordinal_defines_the_range_both_ways() {
        let sets = [sts("web", &["data"], 1, Some(5), json!({}))];
        let claims: Vec<_> = [4, 5, 6, 7]
            .iter()
            .map(|i| pvc(&format!("data-web-{i}"), json!({})))
            .collect();
        let p = run(&sets, &[], &claims, &Options::default());
        assert_eq!(
            names(&p.candidates),
            vec!["data-web-4", "data-web-6", "data-web-7"]
        );
    }

    #[test]
    fn replicas_zero_is_kept_unless_asked_and_not_a_deleted_set() {
        let sets = [sts("web", &["data"], 0, None, json!({}))];
        let p = run(&sets, &[], &web_claims(2), &Options::default());
        assert!(p.candidates.is_empty());
        assert_eq!(names(&p.skipped), vec!["data-web-0", "data-web-1"]);
        assert_eq!(
            p.skipped[0].reason,
            "web is scaled to 0, often a pause, not a shrink; prune-pvcs --include-scaled-to-zero makes its claims candidates"
        );
        let p = run(
            &sets,
            &[],
            &web_claims(2),
            &Options {
                include_deleted: true,
                include_scaled_to_zero: true,
                ..Options::default()
            },
        );
        assert_eq!(names(&p.candidates), vec!["data-web-0", "data-web-1"]);
        assert!(p.weak_candidates.is_empty());
        assert!(
            p.candidates
                .iter()
                .all(|e| e.evidence == Evidence::OutOfRange)
        );
    }

    #[test]
    fn mounted_claim_or_pod_for_ordinal_is_skipped() {
        let sets = [sts("web", &["data"], 1, None, json!({}))];
        let mut term = pod("web-2", None, None);
        term.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
        let pods = [pod("intruder", None, Some("data-web-1")), term];
        let p = run(&sets, &pods, &web_claims(3), &Options::default());
        assert!(p.candidates.is_empty());
        assert_eq!(names(&p.skipped), vec!["data-web-1", "data-web-2"]);
        assert_eq!(p.skipped[0].reason, "mounted by pod intruder");
        assert_eq!(p.skipped[1].reason, "pod web-2 exists (terminating)");
    }

    #[test]
    fn scale_in_flight_skips_everything_of_the_set() {
        let sets = [sts(
            "web",
            &["data"],
            1,
            None,
            json!({"status": {"replicas": 3}}),
        )];
        let p = run(&sets, &[], &web_claims(3), &Options::default());
        assert!(p.candidates.is_empty());
        assert!(
            p.skipped
                .iter()
                .all(|e| e.reason.contains("scale of web in flight")),
            "{:?}",
            p.skipped
        );
        let sets = [sts("web", &["data"], 1, None, json!({}))];
        let pods = [pod("web-3", Some("web"), None)];
        let p = run(&sets, &pods, &web_claims(3), &Options::default());
        assert!(p.candidates.is_empty());
        assert!(
            p.skipped[0]
                .reason
                .contains("pod web-3 outside 0..0 still exists"),
            "{:?}",
            p.skipped
        );
    }

    #[test]
    fn two_owners_need_out_of_range_for_both() {
        // a (template b-c) and c-a (template b) both produce b-c-a-N.
        let a = sts("a", &["b-c"], 1, None, json!({}));
        let ca = sts("c-a", &["b"], 3, None, json!({}));
        let claims = vec![
            pvc("b-c-a-0", json!({})),
            pvc("b-c-a-2", json!({})),
            pvc("b-c-a-5", json!({})),
        ];
        let p = run(&[a, ca], &[], &claims, &Options::default());
        assert_eq!(names(&p.candidates), vec!["b-c-a-5"]);
        assert_eq!(p.candidates[0].statefulsets, vec!["a", "c-a"]);
        assert_eq!(
            p.candidates[0].reason,
            "ordinal 5 outside 0..0 of a and ordinal 5 outside 0..2 of c-a"
        );
        // b-c-a-0 is live for both; b-c-a-2 is out of range for a only.
        assert_eq!(names(&p.skipped), vec!["b-c-a-2"]);
        assert_eq!(p.skipped[0].statefulsets, vec!["a"]);
        assert_eq!(
            p.skipped[0].reason,
            "the name also fits statefulset c-a, where ordinal 2 is live"
        );
    }

    #[test]
    fn retention_owner_refs_hpa_and_opt_out_are_skipped() {
        let sets = [sts("web", &["data"], 1, None, json!({}))];
        let claims = vec![
            pvc(
                "data-web-1",
                json!({"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "web-1", "uid": "u1", "controller": true}]}}),
            ),
            pvc(
                "data-web-2",
                json!({"metadata": {"annotations": {OPT_OUT_ANNOTATION: OPT_OUT_VALUE}}}),
            ),
            pvc("data-web-3", json!({})),
        ];
        let p = run(&sets, &[], &claims, &Options::default());
        assert_eq!(names(&p.candidates), vec!["data-web-3"]);
        assert_eq!(
            p.skipped[0].reason,
            "its owner pod web-1 (uid u1) is gone: the garbage collector deletes it"
        );
        assert_eq!(p.skipped[1].reason, "annotated kubectl-sts.io/prune=never");

        // whenScaled: Delete set after the scale-down: the claim has no
        // ownerReference, nothing deletes it: an ordinary candidate.
        let sets = [sts(
            "web",
            &["data"],
            1,
            None,
            json!({"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete", "whenDeleted": "Retain"}}}),
        )];
        let p = run(&sets, &[], &web_claims(2), &Options::default());
        assert_eq!(names(&p.candidates), vec!["data-web-1"]);
        assert!(p.skipped.is_empty());

        let sets = [sts("web", &["data"], 1, None, json!({}))];
        let hpa: HorizontalPodAutoscaler = serde_json::from_value(json!({
            "metadata": {"name": "h", "namespace": "ns"},
            "spec": {"maxReplicas": 3, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web"}}
        }))
        .unwrap_or_default();
        let claims = web_claims(4);
        let hpas = [hpa];
        let inp = Inputs {
            sets: &sets,
            pods: &[],
            claims: &claims,
            volumes: None,
            hpas: &hpas,
        };
        let p = plan(&inp, &Options::default(), now());
        assert_eq!(names(&p.candidates), vec!["data-web-3"]);
        assert_eq!(names(&p.skipped), vec!["data-web-1", "data-web-2"]);
        assert!(p.skipped[0].reason.contains("HPA h may scale web up to 3"));
        assert_eq!(p.candidates[0].reclaim_policy, None);
        let p = plan(
            &inp,
            &Options {
                ignore_autoscaler: true,
                ..Options::default()
            },
            now(),
        );
        assert_eq!(
            names(&p.candidates),
            vec!["data-web-1", "data-web-2", "data-web-3"]
        );
    }

    #[test]
    fn deleted_sets_and_removed_templates_only_with_include_deleted() {
        let sets = [sts("web", &["data"], 1, None, json!({}))];
        let claims = vec![
            pvc(
                "data-old-db-0",
                json!({"metadata": {"labels": {"app": "old-db"}}}),
            ),
            pvc(
                "logs-web-0",
                json!({"metadata": {"labels": {"app": "web"}}}),
            ),
            pvc(
                "logs-web-4",
                json!({"metadata": {"labels": {"app": "web"}}}),
            ),
            pvc("scratch-7", json!({"metadata": {"labels": {"app": "x"}}})),
        ];
        let p = run(&sets, &[], &claims, &Options::default());
        assert_eq!(p, Plan::default());
        let p = run(
            &sets,
            &[],
            &claims,
            &Options {
                include_deleted: true,
                ..Options::default()
            },
        );
        assert!(p.candidates.is_empty());
        assert_eq!(
            names(&p.weak_candidates),
            vec!["data-old-db-0", "logs-web-4"]
        );
        assert_eq!(p.weak_candidates[0].evidence, Evidence::DeletedStatefulSet);
        assert_eq!(p.weak_candidates[0].statefulsets, vec!["old-db"]);
        assert_eq!(p.weak_candidates[0].template, "data");
        assert_eq!(p.weak_candidates[1].evidence, Evidence::RemovedTemplate);
        assert_eq!(names(&p.skipped), vec!["logs-web-0"]);
    }

    #[test]
    fn name_filter_and_older_than() {
        let sets = [
            sts("web", &["data"], 1, None, json!({})),
            sts("db", &["data"], 0, None, json!({})),
        ];
        let mut claims = web_claims(2);
        claims.push(pvc("data-db-0", json!({})));
        let p = run(
            &sets,
            &[],
            &claims,
            &Options {
                name: Some("db".into()),
                include_scaled_to_zero: true,
                ..Options::default()
            },
        );
        assert_eq!(names(&p.candidates), vec!["data-db-0"]);
        assert!(p.skipped.is_empty());
        let p = run(
            &sets,
            &[],
            &claims,
            &Options {
                older_than: Some(2 * 86400),
                ..Options::default()
            },
        );
        assert!(p.candidates.is_empty());
        assert_eq!(names(&p.skipped), vec!["data-db-0", "data-web-1"]);
        assert_eq!(
            p.skipped[0].reason,
            "db is scaled to 0, often a pause, not a shrink; prune-pvcs --include-scaled-to-zero makes its claims candidates; 24h old, younger than --older-than 2d"
        );
        assert_eq!(p.skipped[1].reason, "24h old, younger than --older-than 2d");
    }

    #[test]
    fn after_delete_checks_range_and_mounts() {
        let sets = [sts("web", &["data"], 1, None, json!({}))];
        let p = run(&sets, &[], &web_claims(3), &Options::default());
        let e = &p.candidates[1];
        assert_eq!(back_in_range(e, &sets), None);
        let up = [sts("web", &["data"], 3, None, json!({}))];
        assert_eq!(
            back_in_range(e, &up).as_deref(),
            Some("ordinal 2 is live again in web (0..2)")
        );
        assert_eq!(
            mounted_by(
                e,
                &[
                    pod("web-2", Some("web"), Some("data-web-2")),
                    pod("x", None, Some("data-web-1"))
                ]
            ),
            vec!["web-2"]
        );
    }

    /// The names a status finding lists after its last `": "`.
    fn listed(msg: &str) -> Vec<String> {
        msg.rsplit_once(": ")
            .map(|(_, names)| names.split(", ").map(String::from).collect())
            .unwrap_or_default()
    }

    type Scenario = (
        &'static str,
        Vec<StatefulSet>,
        Vec<Pod>,
        Vec<PersistentVolumeClaim>,
        Vec<HorizontalPodAutoscaler>,
    );

    /// status NAME's out-of-range WARNING lists exactly the candidates of
    /// prune-pvcs NAME, and its kept claims are exactly prune's skipped ones.
    #[test]
    fn status_warnings_are_exactly_the_prune_candidates() {
        let ann = json!({"metadata": {"annotations": {OPT_OUT_ANNOTATION: OPT_OUT_VALUE}}});
        let hpa: HorizontalPodAutoscaler = serde_json::from_value(json!({
            "metadata": {"name": "h", "namespace": "ns"},
            "spec": {"maxReplicas": 3, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web"}}
        }))
        .unwrap_or_default();
        let switched = json!({"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete", "whenDeleted": "Retain"}}});
        let scenarios: Vec<Scenario> = vec![
            (
                "3 to 1",
                vec![sts("web", &["data"], 1, None, json!({}))],
                vec![],
                web_claims(3),
                vec![],
            ),
            (
                "kept",
                vec![sts("web", &["data"], 1, None, json!({}))],
                vec![pod("backup", None, Some("data-web-1"))],
                vec![
                    pvc("data-web-0", json!({})),
                    pvc("data-web-1", json!({})),
                    pvc("data-web-2", ann.clone()),
                    pvc("data-web-3", json!({})),
                    pvc("data-web-4", json!({})),
                ],
                vec![hpa],
            ),
            (
                "switched to Delete",
                vec![sts("web", &["data"], 1, None, switched)],
                vec![],
                web_claims(3),
                vec![],
            ),
            (
                "scaled to 0",
                vec![sts("web", &["data"], 0, None, json!({}))],
                vec![],
                web_claims(2),
                vec![],
            ),
            (
                "two templates",
                vec![sts("web", &["data", "wal"], 1, None, json!({}))],
                vec![],
                [
                    "data-web-0",
                    "wal-web-0",
                    "wal-web-1",
                    "data-web-2",
                    "data-web-3",
                    "wal-web-3",
                ]
                .iter()
                .map(|n| pvc(n, json!({})))
                .collect(),
                vec![],
            ),
            (
                "ambiguous",
                vec![
                    sts("web", &["b-c"], 1, None, json!({})),
                    sts("c-web", &["b"], 3, None, json!({})),
                ],
                vec![],
                ["b-c-web-0", "b-c-web-2", "b-c-web-5"]
                    .iter()
                    .map(|n| pvc(n, json!({})))
                    .collect(),
                vec![],
            ),
        ];
        for (what, sets, pods, claims, hpas) in scenarios {
            let inp = Inputs {
                sets: &sets,
                pods: &pods,
                claims: &claims,
                volumes: None,
                hpas: &hpas,
            };
            let p = plan(
                &inp,
                &Options {
                    name: Some("web".into()),
                    ..Options::default()
                },
                now(),
            );
            let snap = crate::model::StsSnapshot {
                sts: sets[0].clone(),
                all_sets: sets.clone(),
                namespace_pods: pods.clone(),
                claims: claims.clone(),
                hpas: hpas.clone(),
                ..Default::default()
            };
            let r = crate::analysis::statefulset::analyze(&snap, &Default::default(), now());
            let by = |id: &str| -> Vec<String> {
                let mut v: Vec<String> = r
                    .findings
                    .iter()
                    .filter(|f| f.id == id)
                    .flat_map(|f| listed(&f.message))
                    .collect();
                v.sort();
                v
            };
            let mut want: Vec<String> = p.candidates.iter().map(|e| e.claim.clone()).collect();
            want.sort();
            assert_eq!(by("pvc.out_of_range"), want, "{what}: {:#?}", r.findings);
            let mut kept: Vec<String> = p.skipped.iter().map(|e| e.claim.clone()).collect();
            kept.sort();
            assert_eq!(by("pvc.kept"), kept, "{what}: {:#?}", r.findings);
            assert!(
                r.findings
                    .iter()
                    .filter(|f| f.id.starts_with("pvc."))
                    .count()
                    <= 1 + p.skipped.len(),
                "{what}: not grouped"
            );
        }
    }
}
