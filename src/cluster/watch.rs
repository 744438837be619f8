//! `status --watch`: one LIST then one WATCH per kind (kube's watcher and
//! reflector), never polling. Each change wakes the caller, which rebuilds
//! the snapshot from the local stores and re-renders.

use std::fmt::Debug;
use std::hash::Hash;
use std::time::Duration;

use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Node, PersistentVolumeClaim, Pod, Service};
use kube::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;

use super::Cluster;
use super::fetch::missing;
use crate::error::Failure;
use crate::model::{DsSnapshot, Inventory, StsSnapshot};

/// Local copies of the watched kinds, kept current by the watches.
#[derive(Default)]
pub struct Stores {
    sets: Option<Store<StatefulSet>>,
    daemons: Option<Store<DaemonSet>>,
    pods: Option<Store<Pod>>,
    claims: Option<Store<PersistentVolumeClaim>>,
    services: Option<Store<Service>>,
    events: Option<Store<Event>>,
    hpas: Option<Store<HorizontalPodAutoscaler>>,
    nodes: Option<Store<Node>>,
    revisions: Option<Store<ControllerRevision>>,
    /// What is not watched, and why.
    notes: Vec<String>,
}

/// The stores plus the merged stream of their changes.
pub struct Watch {
    pub stores: Stores,
    changes: SelectAll<BoxStream<'static, Result<(), String>>>,
}

fn start<K>(
    api: Api<K>,
    cfg: watcher::Config,
    streams: &mut SelectAll<BoxStream<'static, Result<(), String>>>,
) -> Store<K>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
{
    let (reader, writer) = reflector::store();
    let s = reflector::reflector(writer, watcher(api, cfg))
        .default_backoff()
        .map(|r| r.map(|_| ()).map_err(|e| e.to_string()));
    streams.push(s.boxed());
    reader
}

fn api<K>(c: &Cluster, ns: Option<&str>) -> Api<K>
where
    K: kube::Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>,
{
    match ns {
        Some(n) => Api::namespaced(c.client.clone(), n),
        None => Api::all(c.client.clone()),
    }
}

/// What one watch follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The StatefulSet view.
    StatefulSet,
    /// The DaemonSet view.
    DaemonSet,
    /// The fleet view (StatefulSets and DaemonSets).
    Fleet,
}

/// Which optional kinds this user may list (a 403 is a note, not a failure).
#[derive(Clone, Copy, Debug)]
pub struct Allowed {
    pub nodes: bool,
    pub hpas: bool,
    pub events: bool,
}

impl Watch {
    /// Starts one watch per kind the `scope` needs, in the namespace (or all
    /// namespaces with `all_ns`); kinds not `allowed` are left out with a note.
    pub fn start(c: &Cluster, scope: Scope, all_ns: bool, allowed: Allowed) -> Watch {
        let ns = if all_ns {
            None
        } else {
            Some(c.namespace.as_str())
        };
        let mut changes = SelectAll::new();
        let cfg = watcher::Config::default;
        let sets_too = scope != Scope::DaemonSet;
        let daemons_too = scope != Scope::StatefulSet;
        let mut st = Stores::default();
        if sets_too {
            st.sets = Some(start(api::<StatefulSet>(c, ns), cfg(), &mut changes));
            st.claims = Some(start(
                api::<PersistentVolumeClaim>(c, ns),
                cfg(),
                &mut changes,
            ));
            st.services = Some(start(api::<Service>(c, ns), cfg(), &mut changes));
            if allowed.hpas {
                st.hpas = Some(start(
                    api::<HorizontalPodAutoscaler>(c, ns),
                    cfg(),
                    &mut changes,
                ));
            } else {
                st.notes.push("not allowed to list horizontalpodautoscalers.autoscaling: claims kept for an autoscaler's maxReplicas not checked".into());
            }
        }
        if daemons_too {
            st.daemons = Some(start(api::<DaemonSet>(c, ns), cfg(), &mut changes));
            st.revisions = Some(start(api::<ControllerRevision>(c, ns), cfg(), &mut changes));
            if allowed.nodes {
                st.nodes = Some(start(
                    Api::<Node>::all(c.client.clone()),
                    cfg(),
                    &mut changes,
                ));
            } else {
                st.notes.push("not allowed to list nodes: node eligibility (taints, labels, readiness) not checked".into());
            }
        }
        st.pods = Some(start(api::<Pod>(c, ns), cfg(), &mut changes));
        if allowed.events {
            st.events = Some(start(api::<Event>(c, ns), cfg(), &mut changes));
        } else {
            st.notes
                .push("not allowed to list events: causes from events not checked".into());
        }
        if sets_too {
            st.notes.push("watch mode: PersistentVolumes and StorageClasses are not read (run without --watch for them)".into());
        }
        Watch {
            stores: st,
            changes,
        }
    }

    /// Waits for the next change (after the initial lists: for all of them),
    /// then drains whatever else arrived within `settle`. `Err` carries a
    /// watch error message (the watch itself retries with back-off).
    pub async fn next(&mut self, settle: Duration) -> Option<Result<(), String>> {
        let first = self.changes.next().await?;
        if first.is_err() {
            return Some(first);
        }
        let deadline = tokio::time::sleep(settle);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                item = self.changes.next() => match item {
                    Some(Ok(())) => continue,
                    Some(Err(e)) => return Some(Err(e)),
                    None => break,
                },
            }
        }
        Some(Ok(()))
    }

    /// Whether every store has finished its initial list.
    pub fn ready(&self) -> bool {
        fn done<K>(s: &Option<Store<K>>) -> bool
        where
            K: kube::Resource + Clone + 'static,
            K::DynamicType: Eq + Hash + Clone,
        {
            s.as_ref()
                .is_none_or(|d| d.wait_until_ready().now_or_never().is_some())
        }
        let s = &self.stores;
        done(&s.sets)
            && done(&s.daemons)
            && done(&s.pods)
            && done(&s.claims)
            && done(&s.services)
            && done(&s.events)
            && done(&s.hpas)
            && done(&s.nodes)
            && done(&s.revisions)
    }
}

fn owned<K>(store: &Option<Store<K>>) -> Vec<K>
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    store
        .as_ref()
        .map(|s| s.state().into_iter().map(|a| (*a).clone()).collect())
        .unwrap_or_default()
}

impl Stores {
    /// Everything the stores hold, as the LIST path would have read it.
    pub fn inventory(&self) -> Inventory {
        Inventory {
            sets: owned(&self.sets),
            daemons: owned(&self.daemons),
            pods: owned(&self.pods),
            claims: owned(&self.claims),
            services: owned(&self.services),
            revisions: owned(&self.revisions),
            events: owned(&self.events),
            hpas: owned(&self.hpas),
            nodes: self.nodes.as_ref().map(|_| owned(&self.nodes)),
            volumes: None,
            storage_classes: None,
            notes: self.notes.clone(),
        }
    }

    /// A snapshot of StatefulSet `name` from the stores.
    pub async fn sts_snapshot(&self, c: &Cluster, name: &str) -> Result<StsSnapshot, Failure> {
        let inv = self.inventory();
        match inv
            .sets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name))
        {
            Some(sts) => Ok(inv.sts_snapshot(sts)),
            None => Err(missing(c, "statefulset", "statefulsets", name).await),
        }
    }

    /// A snapshot of DaemonSet `name` from the stores.
    pub async fn ds_snapshot(&self, c: &Cluster, name: &str) -> Result<DsSnapshot, Failure> {
        let inv = self.inventory();
        match inv
            .daemons
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name))
        {
            Some(ds) => Ok(inv.ds_snapshot(ds)),
            None => Err(missing(c, "daemonset", "daemonsets", name).await),
        }
    }
}
