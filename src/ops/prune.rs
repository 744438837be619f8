//! Prune planning: which PersistentVolumeClaims did scale-down leave behind,
//! and which of them is it safe to delete (controller-semantics.md B2, B11).
//!
//! Pure: plain k8s-openapi objects in, a [`Plan`] out, `now` as a parameter.
//! The same [`assess`] runs for the plan and for the re-check right before
//! each DELETE, so both apply exactly the same rules.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use crate::analysis::statefulset::claims::match_claim;
use crate::analysis::statefulset::{live_range, template_names};

/// Annotation on a claim that keeps it out of every prune.
pub const OPT_OUT_ANNOTATION: &str = "kubectl-sts.io/prune";
/// The value of [`OPT_OUT_ANNOTATION`] that opts out.
pub const OPT_OUT_VALUE: &str = "never";

/// What the planner looks at (any namespaces; matched per claim namespace).
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    pub sets: &'a [StatefulSet],
    pub pods: &'a [Pod],
    pub claims: &'a [PersistentVolumeClaim],
    /// `None` when PersistentVolumes could not be read.
    pub volumes: Option<&'a [PersistentVolume]>,
    pub hpas: &'a [HorizontalPodAutoscaler],
}

/// Planner options (from the command line).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only claims of this StatefulSet.
    pub name: Option<String>,
    /// Also claims of deleted StatefulSets and removed templates.
    pub include_deleted: bool,
    /// Do not protect claims below an HPA's maxReplicas.
    pub ignore_autoscaler: bool,
    /// Only claims at least this many seconds old.
    pub older_than: Option<i64>,
}

/// Why a claim looks left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Evidence {
    /// Exact template and StatefulSet name, ordinal outside the live range.
    OutOfRange,
    /// Labels and name shape point at a StatefulSet that no longer exists.
    DeletedStatefulSet,
    /// The StatefulSet exists but no longer has this claim's template.
    RemovedTemplate,
}

impl Evidence {
    /// Strong evidence (exact names) or weaker (labels and name shape).
    pub fn is_strong(self) -> bool {
        self == Evidence::OutOfRange
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

fn parse_ordinal(s: &str) -> Option<i32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

fn ns_of<K: kube::Resource>(k: &K) -> &str {
    k.meta().namespace.as_deref().unwrap_or("")
}

fn name_of<K: kube::Resource>(k: &K) -> &str {
    k.meta().name.as_deref().unwrap_or("")
}

struct Owner<'a> {
    sts: &'a StatefulSet,
    template: String,
    ordinal: i32,
}

fn fmt_range(r: &std::ops::Range<i32>) -> String {
    format!("[{}, {})", r.start, r.end)
}

/// The scale of `sts` is in flight: spec and status replicas differ, the
/// status is stale, or a pod of it outside the live range still exists.
pub fn scale_in_flight(sts: &StatefulSet, pods: &[Pod]) -> Option<String> {
    let name = name_of(sts);
    let spec = sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = sts.status.clone().unwrap_or_default();
    if st.replicas != spec {
        return Some(format!(
            "scale of {name} in flight (spec.replicas {spec}, status.replicas {})",
            st.replicas
        ));
    }
    if st.observed_generation.unwrap_or(0) < sts.metadata.generation.unwrap_or(0) {
        return Some(format!(
            "{name} has changes the controller has not observed yet"
        ));
    }
    let range = live_range(sts);
    let uid = sts.metadata.uid.as_deref();
    for p in pods.iter().filter(|p| ns_of(*p) == ns_of(sts)) {
        let Some(ord) = name_of(p)
            .strip_prefix(name)
            .and_then(|r| r.strip_prefix('-'))
            .and_then(parse_ordinal)
        else {
            continue;
        };
        let owned =
            p.metadata.owner_references.iter().flatten().any(|o| {
                o.kind == "StatefulSet" && (Some(o.uid.as_str()) == uid || o.name == name)
            });
        if owned && !range.contains(&ord) {
            return Some(format!(
                "scale of {name} in flight (pod {} outside {} still exists)",
                name_of(p),
                fmt_range(&range)
            ));
        }
    }
    None
}

fn hpa_max_for(sts: &StatefulSet, hpas: &[HorizontalPodAutoscaler]) -> Option<(String, i32)> {
    hpas.iter()
        .filter(|h| ns_of(*h) == ns_of(sts))
        .filter_map(|h| {
            let spec = &h.spec;
            let r = &spec.scale_target_ref;
            let api_ok = r
                .api_version
                .as_deref()
                .is_none_or(|v| v.starts_with("apps/"));
            (r.kind == "StatefulSet" && r.name == name_of(sts) && api_ok)
                .then(|| (name_of(h).to_string(), spec.max_replicas))
        })
        .max_by_key(|(_, m)| *m)
}

/// Assesses one claim: `None` when it is not a left-behind claim at all
/// (live, or not a StatefulSet claim), else a candidate or a skip.
pub fn assess(
    pvc: &PersistentVolumeClaim,
    inp: &Inputs<'_>,
    opts: &Options,
    now: Timestamp,
) -> Option<Verdict> {
    let ns = ns_of(pvc);
    let name = name_of(pvc);
    let sets: Vec<&StatefulSet> = inp.sets.iter().filter(|s| ns_of(*s) == ns).collect();
    let pods: Vec<&Pod> = inp.pods.iter().filter(|p| ns_of(*p) == ns).collect();

    // Every StatefulSet whose templates produce exactly this name.
    let owners: Vec<Owner<'_>> = sets
        .iter()
        .filter_map(|s| {
            let tpls = template_names(s);
            match_claim(name, name_of(*s), &tpls).map(|(t, o)| Owner {
                sts: s,
                template: t.to_string(),
                ordinal: o,
            })
        })
        .collect();

    let mut reasons: Vec<String> = Vec::new();
    let (evidence, set_names, template, ordinal, why) = if !owners.is_empty() {
        if owners
            .iter()
            .any(|o| live_range(o.sts).contains(&o.ordinal))
        {
            return None;
        }
        let set_names: Vec<String> = owners.iter().map(|o| name_of(o.sts).to_string()).collect();
        if let Some(n) = &opts.name
            && !set_names.contains(n)
        {
            return None;
        }
        for o in &owners {
            if let Some(r) = scale_in_flight(o.sts, inp.pods) {
                reasons.push(r);
            }
            let policy = o
                .sts
                .spec
                .as_ref()
                .and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
            if policy.and_then(|p| p.when_scaled.as_deref()) == Some("Delete") {
                reasons.push(format!(
                    "{} has whenScaled: Delete; the controller deletes its scaled-down claims",
                    name_of(o.sts)
                ));
            }
            if !opts.ignore_autoscaler
                && let Some((hpa, max)) = hpa_max_for(o.sts, inp.hpas)
            {
                let start = live_range(o.sts).start;
                if o.ordinal >= start && o.ordinal < start.saturating_add(max.max(0)) {
                    reasons.push(format!(
                        "HPA {hpa} may scale {} up to {max} replicas (ordinals {}); --ignore-autoscaler overrides",
                        name_of(o.sts),
                        fmt_range(&(start..start.saturating_add(max)))
                    ));
                }
            }
        }
        let why = owners
            .iter()
            .map(|o| {
                format!(
                    "ordinal {} outside {} of {}",
                    o.ordinal,
                    fmt_range(&live_range(o.sts)),
                    name_of(o.sts)
                )
            })
            .collect::<Vec<_>>()
            .join(" and ");
        let first = &owners[0];
        let pod_names: Vec<String> = owners
            .iter()
            .map(|o| format!("{}-{}", name_of(o.sts), o.ordinal))
            .collect();
        for pn in &pod_names {
            if let Some(p) = pods.iter().find(|p| name_of(**p) == pn) {
                let term = if p.metadata.deletion_timestamp.is_some() {
                    " (terminating)"
                } else {
                    ""
                };
                reasons.push(format!("pod {pn} exists{term}"));
            }
        }
        (
            Evidence::OutOfRange,
            set_names,
            first.template.clone(),
            first.ordinal,
            why,
        )
    } else {
        if !opts.include_deleted {
            return None;
        }
        let (evidence, set, template, ordinal, why) = weak_match(pvc, &sets)?;
        if let Some(n) = &opts.name
            && n != &set
        {
            return None;
        }
        if evidence == Evidence::RemovedTemplate
            && let Some(s) = sets.iter().find(|s| name_of(**s) == set)
        {
            if live_range(s).contains(&ordinal) {
                reasons.push(format!("ordinal {ordinal} is live in {set}; a rollback to the old template would use it"));
            }
            if let Some(r) = scale_in_flight(s, inp.pods) {
                reasons.push(r);
            }
        }
        let pn = format!("{set}-{ordinal}");
        if pods.iter().any(|p| name_of(*p) == pn) {
            reasons.push(format!("pod {pn} exists"));
        }
        (evidence, vec![set], template, ordinal, why)
    };

    // Rules common to every claim.
    for p in &pods {
        let mounts = p
            .spec
            .as_ref()
            .and_then(|s| s.volumes.as_ref())
            .is_some_and(|vs| {
                vs.iter().any(|v| {
                    v.persistent_volume_claim
                        .as_ref()
                        .is_some_and(|c| c.claim_name == name)
                })
            });
        if mounts {
            reasons.push(format!("mounted by pod {}", name_of(*p)));
        }
    }
    if pvc.metadata.deletion_timestamp.is_some() {
        reasons.push("already being deleted".to_string());
    }
    for o in pvc.metadata.owner_references.iter().flatten() {
        reasons.push(format!(
            "owned by {} {}; the garbage collector deletes it with its owner",
            o.kind, o.name
        ));
    }
    if pvc
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(OPT_OUT_ANNOTATION))
        .map(String::as_str)
        == Some(OPT_OUT_VALUE)
    {
        reasons.push(format!("annotated {OPT_OUT_ANNOTATION}={OPT_OUT_VALUE}"));
    }
    let created = pvc.metadata.creation_timestamp.as_ref().map(|t| t.0);
    if let Some(min) = opts.older_than {
        let age = created
            .map(|c| now.as_second() - c.as_second())
            .unwrap_or(0);
        if age < min {
            reasons.push(format!(
                "younger than --older-than ({})",
                crate::analysis::pod::age(created, now)
            ));
        }
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
    let entry = Entry {
        namespace: ns.to_string(),
        claim: name.to_string(),
        uid: pvc.metadata.uid.clone().unwrap_or_default(),
        resource_version: pvc.metadata.resource_version.clone().unwrap_or_default(),
        evidence,
        statefulsets: set_names,
        template,
        ordinal,
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
        reason: if reasons.is_empty() {
            why
        } else {
            reasons.join("; ")
        },
    };
    Some(if reasons.is_empty() {
        Verdict::Candidate(entry)
    } else {
        Verdict::Skipped(entry)
    })
}

/// Weaker evidence for a claim no current template produces: a removed
/// template of an existing set (its selector labels are on the claim and
/// the name is `<old-template>-<set>-<ordinal>`), or a deleted set (a label
/// value `V` with the name `<template>-<V>-<ordinal>` and no set `V`).
fn weak_match(
    pvc: &PersistentVolumeClaim,
    sets: &[&StatefulSet],
) -> Option<(Evidence, String, String, i32, String)> {
    let name = name_of(pvc);
    let (head, ord) = name.rsplit_once('-')?;
    let ord = parse_ordinal(ord)?;
    let labels = pvc.metadata.labels.clone().unwrap_or_default();
    let split = |set: &str| {
        head.strip_suffix(set)
            .and_then(|p| p.strip_suffix('-'))
            .filter(|p| !p.is_empty())
            .map(str::to_string)
    };
    for s in sets {
        let want = s
            .spec
            .as_ref()
            .and_then(|sp| sp.selector.match_labels.clone())
            .unwrap_or_default();
        let covered = !want.is_empty() && want.iter().all(|(k, v)| labels.get(k) == Some(v));
        if covered && let Some(prefix) = split(name_of(*s)) {
            let why = format!(
                "template {prefix:?} is no longer in {} (selector labels and name)",
                name_of(*s)
            );
            return Some((
                Evidence::RemovedTemplate,
                name_of(*s).to_string(),
                prefix,
                ord,
                why,
            ));
        }
    }
    for v in labels.values() {
        if v.is_empty() || sets.iter().any(|s| name_of(*s) == v) {
            continue;
        }
        if let Some(prefix) = split(v) {
            let why = format!("no StatefulSet {v:?} (guessed from its labels and name)");
            return Some((Evidence::DeletedStatefulSet, v.clone(), prefix, ord, why));
        }
    }
    None
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

impl Document {
    pub fn new(plan: Plan, notes: Vec<String>, dry_run: Option<&'static str>) -> Document {
        Document {
            api_version: "kubectl-sts/v1",
            kind: "PrunePlan",
            dry_run,
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
        .filter(|p| ns_of(*p) == entry.namespace)
        .filter(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.volumes.as_ref())
                .is_some_and(|vs| {
                    vs.iter().any(|v| {
                        v.persistent_volume_claim
                            .as_ref()
                            .is_some_and(|c| c.claim_name == entry.claim)
                    })
                })
        })
        .map(|p| name_of(p).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(e.reason, "ordinal 1 outside [0, 1) of web");
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
    fn replicas_zero_is_not_a_deleted_set() {
        let sets = [sts("web", &["data"], 0, None, json!({}))];
        let p = run(
            &sets,
            &[],
            &web_claims(2),
            &Options {
                include_deleted: true,
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
                .contains("pod web-3 outside [0, 1) still exists"),
            "{:?}",
            p.skipped
        );
    }

    #[test]
    fn two_owners_need_out_of_range_for_both() {
        // a (template b-c) and c-a (template b) both produce b-c-a-N.
        let a = sts("a", &["b-c"], 1, None, json!({}));
        let ca = sts("c-a", &["b"], 3, None, json!({}));
        let claims = vec![pvc("b-c-a-2", json!({})), pvc("b-c-a-5", json!({}))];
        let p = run(&[a, ca], &[], &claims, &Options::default());
        assert_eq!(names(&p.candidates), vec!["b-c-a-5"]);
        assert_eq!(p.candidates[0].statefulsets, vec!["a", "c-a"]);
        assert_eq!(
            p.candidates[0].reason,
            "ordinal 5 outside [0, 1) of a and ordinal 5 outside [0, 3) of c-a"
        );
        assert!(p.skipped.is_empty());
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
        assert!(p.skipped[0].reason.starts_with("owned by Pod web-1"));
        assert_eq!(p.skipped[1].reason, "annotated kubectl-sts.io/prune=never");

        let sets = [sts(
            "web",
            &["data"],
            1,
            None,
            json!({"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete", "whenDeleted": "Retain"}}}),
        )];
        let p = run(&sets, &[], &web_claims(2), &Options::default());
        assert!(p.candidates.is_empty());
        assert!(p.skipped[0].reason.contains("whenScaled: Delete"));

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
                ..Options::default()
            },
        );
        assert_eq!(names(&p.candidates), vec!["data-db-0"]);
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
        assert_eq!(p.skipped.len(), 2);
        assert!(p.skipped[0].reason.starts_with("younger than --older-than"));
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
            Some("ordinal 2 is live again in web ([0, 3))")
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
}
