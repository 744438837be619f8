//! Snapshots: everything one analysis needs, read once, as plain
//! k8s-openapi objects.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    Event, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::{Selector, SelectorExt};

/// One StatefulSet and everything around it.
#[derive(Clone, Debug, Default)]
pub struct StsSnapshot {
    /// The StatefulSet.
    pub sts: StatefulSet,
    /// Every StatefulSet in its namespace (claim names can be ambiguous).
    pub all_sets: Vec<StatefulSet>,
    /// Pods in the namespace matching the StatefulSet's selector.
    pub pods: Vec<Pod>,
    /// Every pod in the namespace, whoever owns it (the claim rules: a
    /// claim any pod mounts is kept). Empty: not read; `pods` is used.
    pub namespace_pods: Vec<Pod>,
    /// Every claim in the namespace.
    pub claims: Vec<PersistentVolumeClaim>,
    /// The governing Service (`spec.serviceName`), if it exists.
    pub service: Option<Service>,
    /// PersistentVolumes (`None` when they could not be read).
    pub volumes: Option<Vec<PersistentVolume>>,
    /// StorageClasses (`None` when not read or not readable).
    pub storage_classes: Option<Vec<StorageClass>>,
    /// Events in the namespace (read only when a finding needs them).
    pub events: Vec<Event>,
    /// HorizontalPodAutoscalers in the namespace.
    pub hpas: Vec<HorizontalPodAutoscaler>,
    /// What could not be read, said plainly (e.g. RBAC).
    pub notes: Vec<String>,
}

/// One DaemonSet and everything around it.
#[derive(Clone, Debug, Default)]
pub struct DsSnapshot {
    pub ds: DaemonSet,
    /// Every node (`None` when nodes could not be read).
    pub nodes: Option<Vec<Node>>,
    /// Pods in the namespace matching the DaemonSet's selector.
    pub pods: Vec<Pod>,
    /// ControllerRevisions matching the DaemonSet's selector.
    pub revisions: Vec<ControllerRevision>,
    /// Events in the namespace (DaemonSet and its pods).
    pub events: Vec<Event>,
    pub notes: Vec<String>,
}

/// Everything read from one namespace (or from all of them), by LIST or
/// from watch stores. [`Inventory::sts_snapshot`] and
/// [`Inventory::ds_snapshot`] are the one way snapshots are built from it,
/// so the fleet view, the detailed views and `--watch` see the same objects.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub sets: Vec<StatefulSet>,
    pub daemons: Vec<DaemonSet>,
    pub pods: Vec<Pod>,
    pub claims: Vec<PersistentVolumeClaim>,
    pub services: Vec<Service>,
    /// ControllerRevisions (read only when a DaemonSet is viewed).
    pub revisions: Vec<ControllerRevision>,
    /// Events (read only when something lags).
    pub events: Vec<Event>,
    pub hpas: Vec<HorizontalPodAutoscaler>,
    /// Nodes (`None`: not read, or not readable).
    pub nodes: Option<Vec<Node>>,
    /// PersistentVolumes (`None`: not read, or not readable).
    pub volumes: Option<Vec<PersistentVolume>>,
    /// StorageClasses (`None`: not read, or not readable).
    pub storage_classes: Option<Vec<StorageClass>>,
    /// What could not be read, said plainly.
    pub notes: Vec<String>,
}

fn ns_of<K: kube::Resource>(k: &K) -> &str {
    k.meta().namespace.as_deref().unwrap_or_default()
}

fn selected<'a, K: kube::Resource + Clone + 'a>(
    items: impl IntoIterator<Item = &'a K>,
    ns: &str,
    selector: &LabelSelector,
) -> Vec<K> {
    // An unparsable selector selects nothing, as the API server would refuse it.
    let Ok(sel) = Selector::try_from(selector.clone()) else {
        return Vec::new();
    };
    let empty = std::collections::BTreeMap::new();
    items
        .into_iter()
        .filter(|k| ns_of(*k) == ns)
        .filter(|k| sel.matches(k.meta().labels.as_ref().unwrap_or(&empty)))
        .cloned()
        .collect()
}

fn in_ns<'a, K: kube::Resource + Clone + 'a>(
    items: impl IntoIterator<Item = &'a K>,
    ns: &str,
) -> Vec<K> {
    items
        .into_iter()
        .filter(|k| ns_of(*k) == ns)
        .cloned()
        .collect()
}

impl Inventory {
    /// The snapshot of `sts` (which need not be in `self.sets`): its pods by
    /// selector, and the namespace's sets, pods, claims, HPAs and events.
    pub fn sts_snapshot(&self, sts: &StatefulSet) -> StsSnapshot {
        let ns = ns_of(sts);
        let spec = sts.spec.clone().unwrap_or_default();
        let svc = spec.service_name.unwrap_or_default();
        StsSnapshot {
            sts: sts.clone(),
            all_sets: in_ns(&self.sets, ns),
            pods: selected(&self.pods, ns, &spec.selector),
            namespace_pods: in_ns(&self.pods, ns),
            claims: in_ns(&self.claims, ns),
            service: self
                .services
                .iter()
                .find(|v| ns_of(*v) == ns && v.metadata.name.as_deref() == Some(svc.as_str()))
                .cloned(),
            volumes: self.volumes.clone(),
            storage_classes: self.storage_classes.clone(),
            events: in_ns(&self.events, ns),
            hpas: in_ns(&self.hpas, ns),
            notes: self.notes.clone(),
        }
    }

    /// The snapshot of `ds`: its pods and ControllerRevisions by selector,
    /// the nodes, and the namespace's events.
    pub fn ds_snapshot(&self, ds: &DaemonSet) -> DsSnapshot {
        let ns = ns_of(ds);
        let spec = ds.spec.clone().unwrap_or_default();
        DsSnapshot {
            ds: ds.clone(),
            nodes: self.nodes.clone(),
            pods: selected(&self.pods, ns, &spec.selector),
            revisions: selected(&self.revisions, ns, &spec.selector),
            events: in_ns(&self.events, ns),
            notes: self.notes.clone(),
        }
    }
}
