//! The claim rules, once, for every view: whether a PersistentVolumeClaim
//! of a StatefulSet is live, left behind and safe to delete (a prune
//! candidate), or left behind but kept, and why (controller-semantics.md B2,
//! B11). `prune-pvcs` plans and re-checks with [`judge`]; `status` turns the
//! same judgement into its `pvc.out_of_range`, `pvc.template_removed` and
//! `pvc.kept` findings ([`for_set`]), so the two can never disagree.
//!
//! Pure: plain k8s-openapi objects in, plain data out, `now` a parameter.

use std::fmt;
use std::ops::Range;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::statefulset::claims::match_claim;
use super::statefulset::{live_range, replicas, template_names};
use crate::model::StsSnapshot;

/// Annotation on a claim that keeps it out of every prune.
pub const OPT_OUT_ANNOTATION: &str = "kubectl-sts.io/prune";
/// The value of [`OPT_OUT_ANNOTATION`] that opts out.
pub const OPT_OUT_VALUE: &str = "never";
/// The `prune-pvcs` flag that makes claims of a set scaled to 0 candidates.
pub const INCLUDE_SCALED_TO_ZERO: &str = "--include-scaled-to-zero";

/// What the rules look at: the objects of the claim's namespace (any
/// namespaces may be mixed in; each claim is judged against its own).
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    pub sets: &'a [StatefulSet],
    /// Every pod, whoever owns it (any pod that mounts a claim keeps it).
    pub pods: &'a [Pod],
    pub claims: &'a [PersistentVolumeClaim],
    /// `None` when PersistentVolumes could not be read.
    pub volumes: Option<&'a [PersistentVolume]>,
    pub hpas: &'a [HorizontalPodAutoscaler],
}

/// The switches that change a judgement (`prune-pvcs` flags; `status`
/// uses the defaults, except that it always looks at removed templates).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// Also judge claims with weaker evidence: deleted StatefulSets and
    /// removed templates.
    pub include_deleted: bool,
    /// Claims of a StatefulSet scaled to 0 are candidates (otherwise kept:
    /// a set at 0 is often paused, not shrunk).
    pub include_scaled_to_zero: bool,
    /// Do not keep claims below an HPA's maxReplicas.
    pub ignore_autoscaler: bool,
    /// Keep claims younger than this many seconds.
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

/// Where a left-behind claim comes from. Its Display is the reason shown
/// for a candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Its ordinal is outside the live range of each of these StatefulSets
    /// (every set whose template produces its name).
    OutOfRange {
        ordinal: i32,
        ranges: Vec<(String, Range<i32>)>,
    },
    /// Its template is no longer in the StatefulSet.
    RemovedTemplate { set: String, template: String },
    /// No StatefulSet of that name exists.
    DeletedStatefulSet { set: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::OutOfRange { ordinal, ranges } => {
                let parts: Vec<String> = ranges
                    .iter()
                    .map(|(s, r)| format!("ordinal {ordinal} outside {} of {s}", fmt_range(r)))
                    .collect();
                f.write_str(&parts.join(" and "))
            }
            Origin::RemovedTemplate { set, template } => write!(
                f,
                "template {template:?} is no longer in {set} (selector labels and name)"
            ),
            Origin::DeletedStatefulSet { set } => {
                write!(
                    f,
                    "no StatefulSet {set:?} (guessed from its labels and name)"
                )
            }
        }
    }
}

/// A claim that a scale-down (or a removed template or set) left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftBehind {
    pub evidence: Evidence,
    /// The StatefulSet(s) it was left behind by: for exact names, every set
    /// whose template produces the name and for which it is out of range.
    pub statefulsets: Vec<String>,
    pub template: String,
    pub ordinal: i32,
    pub origin: Origin,
}

/// Why a scale of a StatefulSet is not finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InFlight {
    /// `spec.replicas` and `status.replicas` differ.
    Replicas { spec: i32, status: i32 },
    /// `status.observedGeneration` is behind `metadata.generation`.
    NotObserved,
    /// A pod of the set outside the live range still exists.
    PodOutOfRange { pod: String, range: Range<i32> },
}

/// Whether the owner named by a claim's ownerReference exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerState {
    /// A pod or StatefulSet with that name and uid exists.
    Present,
    /// No pod or StatefulSet with that name and uid exists (the garbage
    /// collector deletes dependents whose owners are gone).
    Gone,
    /// Some other kind: not checked.
    Unknown,
}

/// Why a left-behind claim is never deleted. Its Display is the sentence
/// shown (status: `kept: <it>`; prune-pvcs: the REASON of a skipped claim).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The opt-out annotation `kubectl-sts.io/prune` with any value: `never`
    /// is the documented one, and a misspelt value (`Never`, `false`, ` never`)
    /// must protect the claim too, never expose it.
    Annotated { value: String },
    /// A pod (any pod) mounts it.
    MountedBy { pod: String },
    /// A pod exists for its ordinal (even a terminating one).
    PodExists { pod: String, terminating: bool },
    /// The set's scale is not finished.
    ScaleInFlight { set: String, why: InFlight },
    /// An HPA may scale the set back over its ordinal.
    Autoscaler {
        hpa: String,
        set: String,
        max: i32,
        range: Range<i32>,
    },
    /// It has an ownerReference: the garbage collector acts on it.
    OwnerReference {
        kind: String,
        name: String,
        uid: String,
        owner: OwnerState,
    },
    /// The name also fits other sets where the ordinal is live.
    AmbiguousOwner { live_in: Vec<String>, ordinal: i32 },
    /// The set is scaled to 0 (often a pause, not a shrink).
    ScaledToZero { set: String },
    /// It already has a deletionTimestamp.
    BeingDeleted,
    /// Younger than `--older-than`.
    YoungerThan { age: String, older_than: i64 },
    /// (Removed template) its ordinal is live: a rollback would use it.
    LiveForRollback { set: String, ordinal: i32 },
}

impl fmt::Display for Keep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Keep::Annotated { value } if value == OPT_OUT_VALUE => {
                write!(f, "annotated {OPT_OUT_ANNOTATION}={OPT_OUT_VALUE}")
            }
            Keep::Annotated { value } => write!(
                f,
                "annotated {OPT_OUT_ANNOTATION}={value:?} (any value keeps the claim; the documented one is {OPT_OUT_VALUE})"
            ),
            Keep::MountedBy { pod } => write!(f, "mounted by pod {pod}"),
            Keep::PodExists { pod, terminating } => write!(
                f,
                "pod {pod} exists{}",
                if *terminating { " (terminating)" } else { "" }
            ),
            Keep::ScaleInFlight { set, why } => match why {
                InFlight::Replicas { spec, status } => write!(
                    f,
                    "scale of {set} in flight (spec.replicas {spec}, status.replicas {status})"
                ),
                InFlight::NotObserved => {
                    write!(f, "{set} has changes the controller has not observed yet")
                }
                InFlight::PodOutOfRange { pod, range } => write!(
                    f,
                    "scale of {set} in flight (pod {pod} outside {} still exists)",
                    fmt_range(range)
                ),
            },
            Keep::Autoscaler {
                hpa,
                set,
                max,
                range,
            } => write!(
                f,
                "HPA {hpa} may scale {set} up to {max} replicas (ordinals {}); prune-pvcs --ignore-autoscaler overrides",
                fmt_range(range)
            ),
            Keep::OwnerReference {
                kind,
                name,
                uid,
                owner,
            } => {
                let kind = kind.to_ascii_lowercase();
                match owner {
                    OwnerState::Present => write!(
                        f,
                        "the garbage collector deletes it with {kind} {name} (uid {uid}), its owner"
                    ),
                    OwnerState::Gone => write!(
                        f,
                        "its owner {kind} {name} (uid {uid}) is gone: the garbage collector deletes it"
                    ),
                    OwnerState::Unknown => write!(
                        f,
                        "owned by {kind} {name} (uid {uid}): the garbage collector deletes it with its owner"
                    ),
                }
            }
            Keep::AmbiguousOwner { live_in, ordinal } => write!(
                f,
                "the name also fits statefulset {}, where ordinal {ordinal} is live",
                live_in.join(", ")
            ),
            Keep::ScaledToZero { set } => write!(
                f,
                "{set} is scaled to 0, often a pause, not a shrink; prune-pvcs {INCLUDE_SCALED_TO_ZERO} makes its claims candidates"
            ),
            Keep::BeingDeleted => f.write_str("already being deleted"),
            Keep::YoungerThan { age, older_than } => write!(
                f,
                "{age} old, younger than --older-than {}",
                fmt_seconds(*older_than)
            ),
            Keep::LiveForRollback { set, ordinal } => write!(
                f,
                "ordinal {ordinal} is live in {set}; a rollback to the old template would use it"
            ),
        }
    }
}

/// The reasons as one sentence (`; ` between them).
pub fn sentence(keep: &[Keep]) -> String {
    keep.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The judgement on one claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// No StatefulSet's template produces its name (or only weak evidence
    /// does, and it was not asked for).
    Unrelated,
    /// Its ordinal is live in every StatefulSet that could own it.
    Live,
    /// Left behind, and nothing keeps it: prune-pvcs deletes it.
    Candidate(LeftBehind),
    /// Left behind, but never deleted, for these reasons.
    Kept(LeftBehind, Vec<Keep>),
}

fn fmt_range(r: &Range<i32>) -> String {
    crate::analysis::statefulset::ordinal_range(r)
}

/// Seconds as the shortest exact duration (`90s`, `30m`, `12h`, `7d`).
fn fmt_seconds(s: i64) -> String {
    match s {
        s if s > 0 && s % 86400 == 0 => format!("{}d", s / 86400),
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
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

/// Whether `pod` mounts the claim `claim` (a volume of its spec).
pub fn mounts(pod: &Pod, claim: &str) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .is_some_and(|vs| {
            vs.iter().any(|v| {
                v.persistent_volume_claim
                    .as_ref()
                    .is_some_and(|c| c.claim_name == claim)
            })
        })
}

/// The scale of `sts` is in flight: spec and status replicas differ, the
/// status is stale, or a pod of it outside the live range still exists.
pub fn scale_in_flight(sts: &StatefulSet, pods: &[Pod]) -> Option<InFlight> {
    let name = name_of(sts);
    let spec = replicas(sts);
    let st = sts.status.clone().unwrap_or_default();
    if st.replicas != spec {
        return Some(InFlight::Replicas {
            spec,
            status: st.replicas,
        });
    }
    if st.observed_generation.unwrap_or(0) < sts.metadata.generation.unwrap_or(0) {
        return Some(InFlight::NotObserved);
    }
    let range = live_range(sts);
    let uid = sts.metadata.uid.as_deref();
    pods.iter()
        .filter(|p| ns_of(*p) == ns_of(sts))
        .find(|p| {
            let Some(ord) = name_of(*p)
                .strip_prefix(name)
                .and_then(|r| r.strip_prefix('-'))
                .and_then(parse_ordinal)
            else {
                return false;
            };
            let owned = p.metadata.owner_references.iter().flatten().any(|o| {
                o.kind == "StatefulSet" && (Some(o.uid.as_str()) == uid || o.name == name)
            });
            owned && !range.contains(&ord)
        })
        .map(|p| InFlight::PodOutOfRange {
            pod: name_of(p).to_string(),
            range,
        })
}

/// The HPA (autoscaling/v2) targeting `sts` with the highest maxReplicas.
fn hpa_max_for(sts: &StatefulSet, hpas: &[HorizontalPodAutoscaler]) -> Option<(String, i32)> {
    hpas.iter()
        .filter(|h| ns_of(*h) == ns_of(sts))
        .filter_map(|h| {
            let r = &h.spec.scale_target_ref;
            let api_ok = r
                .api_version
                .as_deref()
                .is_none_or(|v| v.starts_with("apps/"));
            (r.kind == "StatefulSet" && r.name == name_of(sts) && api_ok)
                .then(|| (name_of(h).to_string(), h.spec.max_replicas))
        })
        .max_by_key(|(_, m)| *m)
}

struct Owner<'a> {
    sts: &'a StatefulSet,
    template: String,
    ordinal: i32,
}

/// Judges one claim against the objects of its namespace.
pub fn judge(
    pvc: &PersistentVolumeClaim,
    inp: &Inputs<'_>,
    rules: &Rules,
    now: Timestamp,
) -> Judgement {
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

    let mut keep = Vec::new();
    let left = if owners.is_empty() {
        if !rules.include_deleted {
            return Judgement::Unrelated;
        }
        let Some(left) = weak_match(pvc, &sets) else {
            return Judgement::Unrelated;
        };
        let set = left.statefulsets.first().cloned().unwrap_or_default();
        if left.evidence == Evidence::RemovedTemplate
            && let Some(s) = sets.iter().find(|s| name_of(**s) == set)
        {
            if live_range(s).contains(&left.ordinal) {
                keep.push(Keep::LiveForRollback {
                    set: name_of(*s).to_string(),
                    ordinal: left.ordinal,
                });
            }
            if let Some(why) = scale_in_flight(s, inp.pods) {
                keep.push(Keep::ScaleInFlight {
                    set: name_of(*s).to_string(),
                    why,
                });
            }
        }
        let pn = format!("{set}-{}", left.ordinal);
        if let Some(p) = pods.iter().find(|p| name_of(**p) == pn) {
            keep.push(Keep::PodExists {
                pod: pn,
                terminating: p.metadata.deletion_timestamp.is_some(),
            });
        }
        left
    } else {
        let (live, out): (Vec<&Owner<'_>>, Vec<&Owner<'_>>) = owners
            .iter()
            .partition(|o| live_range(o.sts).contains(&o.ordinal));
        let Some(first) = out.first() else {
            return Judgement::Live;
        };
        if !live.is_empty() {
            keep.push(Keep::AmbiguousOwner {
                live_in: live.iter().map(|o| name_of(o.sts).to_string()).collect(),
                ordinal: first.ordinal,
            });
        }
        for o in &out {
            keep.extend(owner_rules(o, inp, rules, &pods));
        }
        LeftBehind {
            evidence: Evidence::OutOfRange,
            statefulsets: out.iter().map(|o| name_of(o.sts).to_string()).collect(),
            template: first.template.clone(),
            ordinal: first.ordinal,
            origin: Origin::OutOfRange {
                ordinal: first.ordinal,
                ranges: out
                    .iter()
                    .map(|o| (name_of(o.sts).to_string(), live_range(o.sts)))
                    .collect(),
            },
        }
    };
    keep.extend(claim_rules(pvc, inp, rules, &pods, now));
    if keep.is_empty() {
        Judgement::Candidate(left)
    } else {
        Judgement::Kept(left, keep)
    }
}

/// The rules that come from one StatefulSet the claim is out of range for.
fn owner_rules(o: &Owner<'_>, inp: &Inputs<'_>, rules: &Rules, pods: &[&Pod]) -> Vec<Keep> {
    let set = name_of(o.sts).to_string();
    let mut keep = Vec::new();
    if let Some(why) = scale_in_flight(o.sts, inp.pods) {
        keep.push(Keep::ScaleInFlight {
            set: set.clone(),
            why,
        });
    }
    if !rules.ignore_autoscaler
        && let Some((hpa, max)) = hpa_max_for(o.sts, inp.hpas)
    {
        let start = live_range(o.sts).start;
        let range = start..start.saturating_add(max.max(0));
        if range.contains(&o.ordinal) {
            keep.push(Keep::Autoscaler {
                hpa,
                set: set.clone(),
                max,
                range,
            });
        }
    }
    if !rules.include_scaled_to_zero && replicas(o.sts) == 0 {
        keep.push(Keep::ScaledToZero { set: set.clone() });
    }
    let pn = format!("{set}-{}", o.ordinal);
    if let Some(p) = pods.iter().find(|p| name_of(**p) == pn) {
        keep.push(Keep::PodExists {
            pod: pn,
            terminating: p.metadata.deletion_timestamp.is_some(),
        });
    }
    keep
}

/// The rules that come from the claim itself and the pods around it.
fn claim_rules(
    pvc: &PersistentVolumeClaim,
    inp: &Inputs<'_>,
    rules: &Rules,
    pods: &[&Pod],
    now: Timestamp,
) -> Vec<Keep> {
    let name = name_of(pvc);
    let mut keep: Vec<Keep> = pods
        .iter()
        .filter(|p| mounts(p, name))
        .map(|p| Keep::MountedBy {
            pod: name_of(*p).to_string(),
        })
        .collect();
    if pvc.metadata.deletion_timestamp.is_some() {
        keep.push(Keep::BeingDeleted);
    }
    for o in pvc.metadata.owner_references.iter().flatten() {
        let same = |n: &str, u: Option<&str>| n == o.name && u == Some(o.uid.as_str());
        let owner = match o.kind.as_str() {
            "Pod"
                if pods
                    .iter()
                    .any(|p| same(name_of(*p), p.metadata.uid.as_deref())) =>
            {
                OwnerState::Present
            }
            "StatefulSet"
                if inp.sets.iter().any(|s| {
                    ns_of(s) == ns_of(pvc) && same(name_of(s), s.metadata.uid.as_deref())
                }) =>
            {
                OwnerState::Present
            }
            "Pod" | "StatefulSet" => OwnerState::Gone,
            _ => OwnerState::Unknown,
        };
        keep.push(Keep::OwnerReference {
            kind: o.kind.clone(),
            name: o.name.clone(),
            uid: o.uid.clone(),
            owner,
        });
    }
    if let Some(v) = pvc
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(OPT_OUT_ANNOTATION))
    {
        keep.push(Keep::Annotated { value: v.clone() });
    }
    if let Some(min) = rules.older_than {
        let created = pvc.metadata.creation_timestamp.as_ref().map(|t| t.0);
        let age = created
            .map(|c| now.as_second() - c.as_second())
            .unwrap_or(0);
        if age < min {
            keep.push(Keep::YoungerThan {
                age: super::pod::age(created, now),
                older_than: min,
            });
        }
    }
    keep
}

/// Weaker evidence for a claim no current template produces: a removed
/// template of an existing set (its selector labels are on the claim and
/// the name is `<old-template>-<set>-<ordinal>`), or a deleted set (a label
/// value `V` with the name `<template>-<V>-<ordinal>` and no set `V`).
fn weak_match(pvc: &PersistentVolumeClaim, sets: &[&StatefulSet]) -> Option<LeftBehind> {
    let name = name_of(pvc);
    let (head, ord) = name.rsplit_once('-')?;
    let ordinal = parse_ordinal(ord)?;
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
        if covered && let Some(template) = split(name_of(*s)) {
            let set = name_of(*s).to_string();
            return Some(LeftBehind {
                evidence: Evidence::RemovedTemplate,
                statefulsets: vec![set.clone()],
                template: template.clone(),
                ordinal,
                origin: Origin::RemovedTemplate { set, template },
            });
        }
    }
    for v in labels.values() {
        if v.is_empty() || sets.iter().any(|s| name_of(*s) == v) {
            continue;
        }
        if let Some(template) = split(v) {
            return Some(LeftBehind {
                evidence: Evidence::DeletedStatefulSet,
                statefulsets: vec![v.clone()],
                template,
                ordinal,
                origin: Origin::DeletedStatefulSet { set: v.clone() },
            });
        }
    }
    None
}

// ---------------------------------------------------------------------------
// The status side.

/// What the rules say about one StatefulSet's left-behind claims, as
/// `status` shows them. Names are sorted by ordinal, then name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetClaims {
    /// Out of range and nothing keeps them: exactly the candidates of
    /// `prune-pvcs NAME`.
    pub out_of_range: Vec<String>,
    /// Claims of templates the set no longer has, by old template name:
    /// the candidates `prune-pvcs NAME --include-deleted` adds.
    pub removed_templates: Vec<(String, Vec<String>)>,
    /// Left behind but kept, grouped by the sentence of their reasons
    /// (first seen first).
    pub kept: Vec<(String, Vec<String>)>,
}

fn push_group(groups: &mut Vec<(String, Vec<String>)>, key: String, claim: String) {
    match groups.iter_mut().find(|(k, _)| *k == key) {
        Some((_, v)) => v.push(claim),
        None => groups.push((key, vec![claim])),
    }
}

/// Judges every claim of the snapshot's namespace with the rules `status`
/// shares with `prune-pvcs` (default flags; removed templates included) and
/// keeps those left behind by the snapshot's StatefulSet.
pub fn for_set(s: &StsSnapshot, now: Timestamp) -> SetClaims {
    let me = name_of(&s.sts);
    // The snapshot's own set is authoritative; `all_sets` supplies the others.
    let mut sets: Vec<StatefulSet> = s
        .all_sets
        .iter()
        .filter(|o| name_of(*o) != me)
        .cloned()
        .collect();
    sets.push(s.sts.clone());
    let pods = if s.namespace_pods.is_empty() {
        &s.pods
    } else {
        &s.namespace_pods
    };
    let inp = Inputs {
        sets: &sets,
        pods,
        claims: &s.claims,
        volumes: s.volumes.as_deref(),
        hpas: &s.hpas,
    };
    let rules = Rules {
        include_deleted: true,
        ..Rules::default()
    };
    let mut judged: Vec<(i32, String, Judgement)> = s
        .claims
        .iter()
        .filter_map(|c| {
            let j = judge(c, &inp, &rules, now);
            let left = match &j {
                Judgement::Candidate(l) | Judgement::Kept(l, _) => l,
                Judgement::Unrelated | Judgement::Live => return None,
            };
            let mine = left.evidence != Evidence::DeletedStatefulSet
                && left.statefulsets.iter().any(|n| n == me);
            let ordinal = left.ordinal;
            mine.then(|| (ordinal, name_of(c).to_string(), j))
        })
        .collect();
    judged.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut out = SetClaims::default();
    for (_, claim, j) in judged {
        match j {
            Judgement::Candidate(l) if l.evidence == Evidence::OutOfRange => {
                out.out_of_range.push(claim);
            }
            Judgement::Candidate(l) => push_group(&mut out.removed_templates, l.template, claim),
            Judgement::Kept(_, keep) => push_group(&mut out.kept, sentence(&keep), claim),
            Judgement::Unrelated | Judgement::Live => {}
        }
    }
    out
}

#[cfg(test)]
mod tests;
