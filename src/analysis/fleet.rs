//! The fleet view: one line per StatefulSet and DaemonSet. Each line's
//! verdict is the verdict of the object's own detailed view (the same
//! findings, computed by the same analysis), never a separate guess from
//! its status counters.

use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::daemonset::{self, DsViewOptions};
use super::health::{Health, Verdict};
use super::statefulset::{self, ViewOptions};
use crate::model::Inventory;

/// The kind of a fleet line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Kind {
    StatefulSet,
    DaemonSet,
}

impl Kind {
    /// kubectl's short name (`sts`, `ds`), as in `sts/web`.
    pub fn short(self) -> &'static str {
        match self {
            Kind::StatefulSet => "sts",
            Kind::DaemonSet => "ds",
        }
    }
}

/// One line.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FleetRow {
    pub namespace: String,
    pub kind: Kind,
    pub name: String,
    pub desired: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    /// The object's health, as its detailed view states it.
    pub verdict: Health,
    /// The deciding finding's object and message (empty when healthy).
    pub reason: String,
    /// The deciding finding's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// The most severe finding's severity (what `--fail-on` reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst: Option<super::finding::Severity>,
}

/// The fleet document.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Fleet {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub items: Vec<FleetRow>,
    /// What could not be checked.
    pub notes: Vec<String>,
}

fn row(kind: Kind, namespace: String, name: String, counts: [i32; 4], v: Verdict) -> FleetRow {
    let [desired, ready, updated, available] = counts;
    FleetRow {
        namespace,
        kind,
        name,
        desired,
        ready,
        updated,
        available,
        verdict: v.health,
        reason: v.reason,
        finding: v.finding,
        worst: v.worst,
    }
}

/// Builds the fleet from one inventory: every StatefulSet and DaemonSet is
/// analysed exactly as `status NAME` would analyse it. Sorted by namespace,
/// kind and name.
pub fn fleet(inv: &Inventory, opts: &ViewOptions, now: Timestamp) -> Fleet {
    let mut items = Vec::new();
    for s in &inv.sets {
        let r = statefulset::analyze(&inv.sts_snapshot(s), opts, now);
        let h = &r.header;
        let counts = [
            h.replicas,
            h.ready_replicas,
            h.updated_replicas,
            h.available_replicas,
        ];
        items.push(row(
            Kind::StatefulSet,
            r.namespace,
            r.name,
            counts,
            r.verdict,
        ));
    }
    for d in &inv.daemons {
        let dopts = DsViewOptions {
            context: opts.context.clone(),
            kubeconfig: opts.kubeconfig.clone(),
            ..Default::default()
        };
        let r = daemonset::analyze(&inv.ds_snapshot(d), &dopts, now);
        let c = &r.counts;
        let counts = [c.desired, c.ready, c.up_to_date, c.available];
        items.push(row(Kind::DaemonSet, r.namespace, r.name, counts, r.verdict));
    }
    items.sort_by(|a, b| (&a.namespace, a.kind, &a.name).cmp(&(&b.namespace, b.kind, &b.name)));
    Fleet {
        api_version: super::statefulset::API_VERSION,
        kind: "Fleet",
        items,
        notes: inv.notes.clone(),
    }
}
