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
    pub service_verdict: String,
    pub volume_claim_templates: Vec<String>,
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
}

/// Options that change the view but not the facts.
#[derive(Clone, Debug)]
pub struct ViewOptions {
    pub cluster_domain: String,
    /// `--context`, repeated in every command the view prints.
    pub context: Option<String>,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            cluster_domain: "cluster.local".into(),
            context: None,
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

fn header(s: &StsSnapshot) -> Header {
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
        service_verdict: checks::service_verdict(s).to_string(),
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
    let h = header(s);
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
    let out_of_range: Vec<OrdinalRow> = extra
        .into_iter()
        .map(|o| {
            let mut r = row(o, false);
            r.claims.retain(|c| c.phase != "Missing");
            r
        })
        .collect();
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
    };
    let mut findings = checks::run_all(s, &report, now);
    finding::sort(&mut findings);
    report.verdict = crate::analysis::health::verdict(&findings, report.header.replicas == 0);
    report.findings = findings;
    report
}

#[cfg(test)]
mod tests;
