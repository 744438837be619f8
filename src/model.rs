//! Snapshots: everything one analysis needs, read once, as plain
//! k8s-openapi objects.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    Event, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::storage::v1::StorageClass;

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
    /// EndpointSlices of the governing Service.
    pub endpoint_slices: Vec<EndpointSlice>,
    /// ControllerRevisions matching the StatefulSet's selector.
    pub revisions: Vec<ControllerRevision>,
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
