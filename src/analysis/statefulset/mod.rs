//! The StatefulSet view: one row per live ordinal (pod, revision, claims,
//! DNS), rows for what exists out of range, and findings.
//!
//! Rules follow controller-semantics Part B: live ordinals are
//! `[start, start+replicas)`, the partition is an index counted from
//! `start`, claims are `<template>-<sts>-<ordinal>`, and per-pod DNS names
//! exist only under the Service whose name equals `serviceName`.

pub mod checks;
pub mod claims;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::finding::{self, Finding};
use super::pod;
use crate::model::StsSnapshot;

/// The JSON/YAML schema version of [`StsReport`].
pub const API_VERSION: &str = "kubectl-sts/v1";

/// Facts from the StatefulSet's spec and status.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub replicas: i32,
    pub ready_replicas: i32,
    pub current_replicas: i32,
    pub updated_replicas: i32,
    pub available_replicas: i32,
    pub status_replicas: i32,
    pub generation: i64,
    pub observed_generation: i64,
    pub current_revision: String,
    pub update_revision: String,
    pub strategy: String,
    /// `None` when the strategy has no rollingUpdate block.
    pub partition: Option<i32>,
    pub max_unavailable: Option<String>,
    pub pod_management_policy: String,
    pub min_ready_seconds: i32,
    pub ordinals_start: i32,
    pub pvc_retention_when_deleted: String,
    pub pvc_retention_when_scaled: String,
    pub service_name: String,
    /// `ok`, `missing`, `not-headless`, `selector-mismatch`, or `none`.
    pub service_verdict: ServiceVerdict,
    /// The pods' stable DNS names, `<pod>.<service>.<ns>.svc.<domain>` with
    /// `<pod>` as a placeholder (`None` without a serviceName).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_pattern: Option<String>,
    /// How many in-range pods run each revision, newest-update first
    /// (revision name, pod count), from the pods' labels.
    pub pods_by_revision: Vec<(String, usize)>,
    /// Where the rollout stands, judged from the pods' revisions (never from
    /// `currentRevision`, which OnDelete does not advance before 1.37).
    pub rollout: RolloutState,
    pub volume_claim_templates: Vec<String>,
}

/// The governing Service, as the pods' DNS names depend on it (B9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceVerdict {
    /// Exists, headless, selects the pod template's labels.
    Ok,
    /// `spec.serviceName` names no Service.
    Missing,
    /// The Service has a cluster IP: no per-pod records.
    NotHeadless,
    /// The Service does not select the pods: no endpoints, no records.
    SelectorMismatch,
    /// `spec.serviceName` is empty.
    None,
}

impl ServiceVerdict {
    /// The name shown in the header and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceVerdict::Ok => "ok",
            ServiceVerdict::Missing => "missing",
            ServiceVerdict::NotHeadless => "not-headless",
            ServiceVerdict::SelectorMismatch => "selector-mismatch",
            ServiceVerdict::None => "none",
        }
    }
}

/// Where a StatefulSet's rollout stands, from its pods' revision labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum RolloutState {
    /// Every in-range pod runs the update revision.
    Complete,
    /// The controller has not yet observed the latest spec.
    NotObserved,
    /// RollingUpdate: pods at or above the partition still run an old revision.
    InProgress { updated: usize, target: usize },
    /// RollingUpdate: the partition holds pods below it on an old revision
    /// (every pod at or above it is updated).
    Partitioned { held: usize },
    /// OnDelete: pods wait to be deleted by hand.
    WaitingForDeletes { waiting: usize },
}

/// How a pod's stable DNS name resolves (B9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsState {
    /// The name resolves to the pod.
    Resolves,
    /// No Service, not headless, not selecting the pods, or no serviceName:
    /// the name does not exist.
    NoRecords,
    /// The pod is not Ready and the Service does not publish not-ready
    /// addresses: the name resolves once the pod is Ready.
    NotReady,
    /// No pod (or a terminating one): nothing to resolve to.
    NoPod,
}

/// A claim as shown in a row.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClaimView {
    pub template: String,
    pub name: String,
    /// `Bound`, `Pending`, `Lost`, `Terminating`, or `Missing`.
    pub phase: String,
    pub capacity: Option<String>,
    pub storage_class: Option<String>,
    pub volume: Option<String>,
    pub reclaim_policy: Option<String>,
}

/// A pod as shown in a row.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodView {
    pub name: String,
    pub ready: bool,
    /// Ready containers / containers, like kubectl's READY column.
    pub ready_containers: String,
    pub status: String,
    pub restarts: i32,
    pub age: String,
    pub node: Option<String>,
    pub ip: Option<String>,
    /// The `controller-revision-hash` label (the ControllerRevision's name).
    pub revision: Option<String>,
    /// On `status.updateRevision`.
    pub updated: bool,
    pub terminating: bool,
}

/// One ordinal.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OrdinalRow {
    pub ordinal: i32,
    /// Inside `[start, start+replicas)`.
    pub in_range: bool,
    /// Index below the partition (pinned to the current revision).
    pub below_partition: bool,
    pub pod: Option<PodView>,
    pub claims: Vec<ClaimView>,
    /// `<pod>.<service>.<ns>.svc.<domain>` (in-range rows only).
    pub dns: Option<String>,
    /// Whether `dns` resolves (in-range rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_state: Option<DnsState>,
}

/// The whole view.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StsReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub header: Header,
    /// Live ordinals, in numeric order.
    pub ordinals: Vec<OrdinalRow>,
    /// Pods or claims with ordinals outside the live range, numeric order.
    pub out_of_range: Vec<OrdinalRow>,
    /// Claims whose name has this set's shape but no current template
    /// (template removed or renamed).
    pub stray_claims: Vec<ClaimView>,
    /// The health verdict, derived from `findings`.
    pub verdict: crate::analysis::health::Verdict,
    pub findings: Vec<Finding>,
    /// What could not be checked.
    pub notes: Vec<String>,
    /// A `kubectl sts canary` in progress (its state annotation), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary: Option<crate::analysis::canary::CanaryProgress>,
    /// Where that canary stands, judged from the pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary_stage: Option<CanaryStage>,
    /// `-n NS` (and `--context CTX`): appended to every command printed.
    #[serde(skip)]
    pub scope: String,
}

/// Where a canary stands, from its state and the pods (B10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStage {
    /// `running`, `settled`, `gate-failing`, `aborting`, `complete`.
    pub phase: CanaryStagePhase,
    /// The step being taken or last completed (1-based).
    pub step: usize,
    pub steps: usize,
    /// Pods on the canary's revision.
    pub updated: usize,
    /// Pods on the canary's revision that are not Ready.
    pub failing: Vec<String>,
}

/// [`CanaryStage::phase`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CanaryStagePhase {
    /// A step is under way: pods above the partition are being updated.
    Running,
    /// Every pod above the partition is updated and Ready: the canary's
    /// session soaks them, or (with no session running) the canary waits
    /// between steps for a decision. The state cannot tell the two apart.
    Settled,
    /// A pod on the canary's revision is not Ready: the health gate fails.
    GateFailing,
    /// An abort is restoring the old revision.
    Aborting,
    /// The template (update revision) or the partition is no longer the
    /// one the canary set: someone changed it outside the canary, which
    /// cannot continue.
    ChangedOutside,
    /// The last step is done; the state is about to be cleared.
    Complete,
}

impl CanaryStagePhase {
    /// The name shown in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CanaryStagePhase::Running => "running",
            CanaryStagePhase::Settled => "settled",
            CanaryStagePhase::GateFailing => "gate-failing",
            CanaryStagePhase::Aborting => "aborting",
            CanaryStagePhase::ChangedOutside => "changed-outside",
            CanaryStagePhase::Complete => "complete",
        }
    }
}

/// Options that change the view but not the facts.
#[derive(Clone, Debug)]
pub struct ViewOptions {
    pub cluster_domain: String,
    /// `--context`, repeated in every command the view prints.
    pub context: Option<String>,
    /// `--kubeconfig`, repeated in every command the view prints.
    pub kubeconfig: Option<String>,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            cluster_domain: "cluster.local".into(),
            context: None,
            kubeconfig: None,
        }
    }
}

/// `spec.ordinals.start`, default 0.
pub fn start_ordinal(sts: &StatefulSet) -> i32 {
    sts.spec
        .as_ref()
        .and_then(|s| s.ordinals.as_ref())
        .and_then(|o| o.start)
        .unwrap_or(0)
}

/// `spec.replicas`, default 1.
pub fn replicas(sts: &StatefulSet) -> i32 {
    sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// The live ordinal range `[start, start+replicas)`.
pub fn live_range(sts: &StatefulSet) -> std::ops::Range<i32> {
    let start = start_ordinal(sts);
    start..start.saturating_add(replicas(sts).max(0))
}

/// The names of the volumeClaimTemplates.
pub fn template_names(sts: &StatefulSet) -> Vec<String> {
    sts.spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.as_ref())
        .map(|ts| ts.iter().filter_map(|t| t.metadata.name.clone()).collect())
        .unwrap_or_default()
}

fn header(s: &StsSnapshot, cluster_domain: &str) -> Header {
    let sts = &s.sts;
    let spec = sts.spec.clone().unwrap_or_default();
    let st = sts.status.clone().unwrap_or_default();
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    let ru = strategy.rolling_update.as_ref();
    let retention = spec
        .persistent_volume_claim_retention_policy
        .clone()
        .unwrap_or_default();
    Header {
        replicas: replicas(sts),
        ready_replicas: st.ready_replicas.unwrap_or(0),
        current_replicas: st.current_replicas.unwrap_or(0),
        updated_replicas: st.updated_replicas.unwrap_or(0),
        available_replicas: st.available_replicas.unwrap_or(0),
        status_replicas: st.replicas,
        generation: sts.metadata.generation.unwrap_or(0),
        observed_generation: st.observed_generation.unwrap_or(0),
        current_revision: st.current_revision.clone().unwrap_or_default(),
        update_revision: st.update_revision.clone().unwrap_or_default(),
        strategy: strategy
            .type_
            .clone()
            .unwrap_or_else(|| "RollingUpdate".into()),
        partition: ru.map(|r| r.partition.unwrap_or(0)),
        max_unavailable: ru
            .and_then(|r| r.max_unavailable.as_ref())
            .map(|m| match m {
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
            }),
        pod_management_policy: spec
            .pod_management_policy
            .clone()
            .unwrap_or_else(|| "OrderedReady".into()),
        min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
        ordinals_start: start_ordinal(sts),
        pvc_retention_when_deleted: retention.when_deleted.unwrap_or_else(|| "Retain".into()),
        pvc_retention_when_scaled: retention.when_scaled.unwrap_or_else(|| "Retain".into()),
        service_name: spec.service_name.clone().unwrap_or_default(),
        service_verdict: checks::service_verdict(s),
        dns_pattern: spec
            .service_name
            .clone()
            .filter(|n| !n.is_empty())
            .map(|n| {
                format!(
                    "<pod>.{n}.{}.svc.{cluster_domain}",
                    sts.metadata.namespace.clone().unwrap_or_default()
                )
            }),
        pods_by_revision: Vec::new(),
        rollout: RolloutState::Complete,
        volume_claim_templates: template_names(sts),
    }
}

fn pod_view(p: &Pod, update_revision: &str, now: Timestamp) -> PodView {
    let statuses = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default();
    let total = p.spec.as_ref().map(|s| s.containers.len()).unwrap_or(0);
    let ready_n = statuses.iter().filter(|c| c.ready).count();
    let revision = pod::label(p, "controller-revision-hash").map(str::to_string);
    PodView {
        name: p.metadata.name.clone().unwrap_or_default(),
        ready: pod::is_ready(p),
        ready_containers: format!("{ready_n}/{total}"),
        status: pod::display_status(p),
        restarts: pod::restarts(p),
        age: pod::age(p.metadata.creation_timestamp.as_ref().map(|t| t.0), now),
        node: pod::node_name(p).map(str::to_string),
        ip: p.status.as_ref().and_then(|s| s.pod_ip.clone()),
        updated: !update_revision.is_empty() && revision.as_deref() == Some(update_revision),
        revision,
        terminating: pod::is_terminating(p),
    }
}

fn claim_view(
    s: &StsSnapshot,
    template: &str,
    name: &str,
    pvc: Option<&PersistentVolumeClaim>,
) -> ClaimView {
    let Some(pvc) = pvc else {
        return ClaimView {
            template: template.into(),
            name: name.into(),
            phase: "Missing".into(),
            capacity: None,
            storage_class: None,
            volume: None,
            reclaim_policy: None,
        };
    };
    let st = pvc.status.as_ref();
    let spec = pvc.spec.as_ref();
    let volume = spec
        .and_then(|sp| sp.volume_name.clone())
        .filter(|v| !v.is_empty());
    let reclaim = volume.as_ref().and_then(|v| {
        s.volumes
            .as_ref()?
            .iter()
            .find(|pv| pv.metadata.name.as_deref() == Some(v.as_str()))?
            .spec
            .as_ref()?
            .persistent_volume_reclaim_policy
            .clone()
    });
    let phase = if pvc.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        st.and_then(|x| x.phase.clone())
            .unwrap_or_else(|| "Pending".into())
    };
    ClaimView {
        template: template.into(),
        name: name.into(),
        phase,
        capacity: st
            .and_then(|x| x.capacity.as_ref())
            .and_then(|c| c.get("storage"))
            .map(|q| q.0.clone())
            .or_else(|| {
                spec.and_then(|sp| sp.resources.as_ref())
                    .and_then(|r| r.requests.as_ref())
                    .and_then(|r| r.get("storage"))
                    .map(|q| format!("{} (requested)", q.0))
            }),
        storage_class: spec.and_then(|sp| sp.storage_class_name.clone()),
        volume,
        reclaim_policy: reclaim,
    }
}

/// Builds the report. Pure: `now` is only used for ages and availability.
pub fn analyze(s: &StsSnapshot, opts: &ViewOptions, now: Timestamp) -> StsReport {
    let sts = &s.sts;
    let name = sts.metadata.name.clone().unwrap_or_default();
    let ns = sts.metadata.namespace.clone().unwrap_or_default();
    let mut h = header(s, &opts.cluster_domain);
    let range = live_range(sts);
    let templates = template_names(sts);
    let partition_index = h.partition.unwrap_or(0);

    // Pods that belong to this set by name (the controller's isMemberOf).
    let mut by_ordinal: std::collections::BTreeMap<i32, &Pod> = Default::default();
    for p in &s.pods {
        if let Some((parent, ord)) = p.metadata.name.as_deref().and_then(pod::parent_and_ordinal)
            && parent == name
        {
            by_ordinal.insert(ord, p);
        }
    }
    let owned_claims = claims::claims_of(s);
    let row = |ord: i32, in_range: bool| -> OrdinalRow {
        let pod_name = format!("{name}-{ord}");
        let claim_views = templates
            .iter()
            .map(|t| {
                let cname = format!("{t}-{name}-{ord}");
                let pvc = s
                    .claims
                    .iter()
                    .find(|c| c.metadata.name.as_deref() == Some(cname.as_str()));
                claim_view(s, t, &cname, pvc)
            })
            .collect();
        let dns = (in_range && !h.service_name.is_empty()).then(|| {
            format!(
                "{pod_name}.{}.{ns}.svc.{}",
                h.service_name, opts.cluster_domain
            )
        });
        OrdinalRow {
            ordinal: ord,
            in_range,
            below_partition: in_range && ord - range.start < partition_index,
            pod: by_ordinal
                .get(&ord)
                .map(|p| pod_view(p, &h.update_revision, now)),
            claims: claim_views,
            dns_state: in_range
                .then(|| dns_state(s, h.service_verdict, by_ordinal.get(&ord).copied())),
            dns,
        }
    };
    let ordinals: Vec<OrdinalRow> = range.clone().map(|o| row(o, true)).collect();

    let mut extra: std::collections::BTreeSet<i32> = by_ordinal
        .keys()
        .copied()
        .filter(|o| !range.contains(o))
        .collect();
    for c in &owned_claims {
        if let Some(o) = c.ordinal
            && !range.contains(&o)
        {
            extra.insert(o);
        }
    }
    let out_of_range: Vec<OrdinalRow> = extra.into_iter().map(|o| row(o, false)).collect();
    let stray_claims = owned_claims
        .iter()
        .filter(|c| c.template.is_none())
        .filter_map(|c| {
            let pvc = s
                .claims
                .iter()
                .find(|p| p.metadata.name.as_deref() == Some(c.name.as_str()))?;
            Some(claim_view(
                s,
                c.template_guess.as_deref().unwrap_or("?"),
                &c.name,
                Some(pvc),
            ))
        })
        .collect();

    h.pods_by_revision = pods_by_revision(&ordinals, &h.update_revision);
    h.rollout = rollout_state(s, &h, &ordinals);
    let mut report = StsReport {
        api_version: API_VERSION,
        kind: "StatefulSetStatus",
        namespace: ns,
        name,
        header: h,
        ordinals,
        out_of_range,
        stray_claims,
        verdict: Default::default(),
        findings: Vec::new(),
        notes: s.notes.clone(),
        canary: crate::analysis::canary::progress(sts),
        canary_stage: None,
        scope: scope_flags(
            &sts.metadata.namespace.clone().unwrap_or_default(),
            opts.context.as_deref(),
            opts.kubeconfig.as_deref(),
        ),
    };
    report.canary_stage = report.canary.as_ref().map(|c| canary_stage(c, &report));
    let mut findings = checks::run_all(s, &report, now);
    finding::sort(&mut findings);
    report.verdict = crate::analysis::health::verdict(&findings, report.header.replicas == 0);
    report.findings = findings;
    report
}

/// An ordinal range as every view writes it: `0..2` (both ends included),
/// or `none` when empty.
pub fn ordinal_range(r: &std::ops::Range<i32>) -> String {
    if r.is_empty() {
        "none".to_string()
    } else {
        format!("{}..{}", r.start, r.end - 1)
    }
}

/// `-n NS`, plus `--context CTX` and `--kubeconfig PATH` when they were
/// given: what every printed command needs to reach the same object (shell
/// words quoted where a shell would split them).
pub fn scope_flags(ns: &str, context: Option<&str>, kubeconfig: Option<&str>) -> String {
    use crate::analysis::daemonset::fix::quote;
    let mut s = format!("-n {}", quote(ns));
    if let Some(c) = context {
        s.push_str(&format!(" --context {}", quote(c)));
    }
    if let Some(k) = kubeconfig {
        s.push_str(&format!(" --kubeconfig {}", quote(k)));
    }
    s
}

fn dns_state(s: &StsSnapshot, service: ServiceVerdict, p: Option<&Pod>) -> DnsState {
    if service != ServiceVerdict::Ok {
        return DnsState::NoRecords;
    }
    let Some(p) = p.filter(|p| !pod::is_terminating(p)) else {
        return DnsState::NoPod;
    };
    let publishes = checks::publishes_not_ready(s);
    let has_ip = p
        .status
        .as_ref()
        .and_then(|st| st.pod_ip.as_ref())
        .is_some();
    if !has_ip {
        DnsState::NotReady
    } else if publishes || pod::is_ready(p) {
        DnsState::Resolves
    } else {
        DnsState::NotReady
    }
}

fn pods_by_revision(rows: &[OrdinalRow], update: &str) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for p in rows
        .iter()
        .filter_map(|r| r.pod.as_ref())
        .filter(|p| !p.terminating)
    {
        *counts
            .entry(p.revision.clone().unwrap_or_else(|| "<none>".into()))
            .or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by_key(|(rev, n)| (rev != update, std::cmp::Reverse(*n)));
    v
}

fn rollout_state(s: &StsSnapshot, h: &Header, rows: &[OrdinalRow]) -> RolloutState {
    if h.observed_generation < h.generation {
        return RolloutState::NotObserved;
    }
    let old =
        |r: &&OrdinalRow| -> bool { r.pod.as_ref().is_some_and(|p| !p.updated && !p.terminating) };
    if h.strategy == "OnDelete" {
        let waiting = rows.iter().filter(old).count();
        return if waiting > 0 {
            RolloutState::WaitingForDeletes { waiting }
        } else {
            RolloutState::Complete
        };
    }
    let _ = s;
    let above: Vec<&OrdinalRow> = rows.iter().filter(|r| !r.below_partition).collect();
    let stale = above.iter().filter(|r| old(r)).count();
    if stale > 0 {
        let updated = above
            .iter()
            .filter(|r| r.pod.as_ref().is_some_and(|p| p.updated))
            .count();
        return RolloutState::InProgress {
            updated,
            target: above.len(),
        };
    }
    let held = rows
        .iter()
        .filter(|r| r.below_partition)
        .filter(old)
        .count();
    if held > 0 {
        RolloutState::Partitioned { held }
    } else {
        RolloutState::Complete
    }
}

fn canary_stage(c: &crate::analysis::canary::CanaryProgress, r: &StsReport) -> CanaryStage {
    use crate::analysis::canary::CanaryPhase;
    let steps = c.counts.len();
    let on_canary = |p: &PodView| !c.to.is_empty() && p.revision.as_deref() == Some(c.to.as_str());
    let pods: Vec<&PodView> = r.ordinals.iter().filter_map(|o| o.pod.as_ref()).collect();
    let updated = pods.iter().filter(|p| on_canary(p)).count();
    let failing: Vec<String> = pods
        .iter()
        .filter(|p| on_canary(p) && !p.ready && !p.terminating)
        .map(|p| p.name.clone())
        .collect();
    let above_settled = {
        let above: Vec<&OrdinalRow> = r.ordinals.iter().filter(|o| !o.below_partition).collect();
        !above.is_empty()
            && above.iter().all(|o| {
                o.pod
                    .as_ref()
                    .is_some_and(|p| on_canary(p) && p.ready && !p.terminating)
            })
    };
    let partition = c.partition.unwrap_or(0);
    // The partition names the step: `completed` steps are done; if the
    // partition already stands at the next step's value, that step runs.
    let next_partition = c
        .counts
        .get(c.completed)
        .map(|n| (c.replicas - n).max(c.floor));
    let step = if next_partition == Some(partition) {
        (c.completed + 1).min(steps)
    } else {
        c.completed.min(steps)
    };
    let observed = r.header.observed_generation >= r.header.generation;
    let moved_revision = observed
        && !c.to.is_empty()
        && !r.header.update_revision.is_empty()
        && r.header.update_revision != c.to;
    let moved_partition = c.set_partition.is_some_and(|p| c.partition != Some(p));
    let phase = if c.phase == CanaryPhase::Aborting {
        CanaryStagePhase::Aborting
    } else if moved_revision || moved_partition {
        CanaryStagePhase::ChangedOutside
    } else if c.phase == CanaryPhase::GateFailed || !failing.is_empty() {
        CanaryStagePhase::GateFailing
    } else if above_settled && step == steps && partition == c.floor {
        CanaryStagePhase::Complete
    } else if above_settled {
        CanaryStagePhase::Settled
    } else {
        CanaryStagePhase::Running
    };
    CanaryStage {
        phase,
        step,
        steps,
        updated,
        failing,
    }
}

#[cfg(test)]
mod tests;
