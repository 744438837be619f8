//! `status --watch`: one LIST then one WATCH per kind (kube's watcher and
//! reflector), never polling. Each change wakes the caller, which rebuilds
//! the snapshot from the local stores and re-renders.

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Node, PersistentVolumeClaim, Pod, Service};
use kube::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;

use super::Cluster;
use super::fetch::missing;
use crate::error::Failure;
use crate::model::{DsSnapshot, StsSnapshot};

/// Local copies of the watched kinds, kept current by the watches.
pub struct Stores {
    sets: Option<Store<StatefulSet>>,
    daemons: Option<Store<DaemonSet>>,
    pods: Option<Store<Pod>>,
    claims: Option<Store<PersistentVolumeClaim>>,
    services: Option<Store<Service>>,
    events: Option<Store<Event>>,
    nodes: Option<Store<Node>>,
    revisions: Option<Store<ControllerRevision>>,
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

impl Watch {
    /// Watches what the StatefulSet view needs in the namespace: sets,
    /// pods, claims, Services and Events (one watch each).
    pub fn statefulset(c: &Cluster) -> Watch {
        let ns = Some(c.namespace.as_str());
        let mut changes = SelectAll::new();
        let cfg = watcher::Config::default;
        let sets = start(api::<StatefulSet>(c, ns), cfg(), &mut changes);
        let pods = start(api::<Pod>(c, ns), cfg(), &mut changes);
        let claims = start(api::<PersistentVolumeClaim>(c, ns), cfg(), &mut changes);
        let services = start(api::<Service>(c, ns), cfg(), &mut changes);
        let events = start(api::<Event>(c, ns), cfg(), &mut changes);
        Watch {
            stores: Stores {
                sets: Some(sets),
                daemons: None,
                pods: Some(pods),
                claims: Some(claims),
                services: Some(services),
                events: Some(events),
                nodes: None,
                revisions: None,
            },
            changes,
        }
    }

    /// Watches StatefulSets and DaemonSets for the fleet view.
    pub fn fleet(c: &Cluster, all_ns: bool) -> Watch {
        let ns = if all_ns {
            None
        } else {
            Some(c.namespace.as_str())
        };
        let mut changes = SelectAll::new();
        let sets = start(
            api::<StatefulSet>(c, ns),
            watcher::Config::default(),
            &mut changes,
        );
        let daemons = start(
            api::<DaemonSet>(c, ns),
            watcher::Config::default(),
            &mut changes,
        );
        Watch {
            stores: Stores {
                sets: Some(sets),
                daemons: Some(daemons),
                pods: None,
                claims: None,
                services: None,
                events: None,
                nodes: None,
                revisions: None,
            },
            changes,
        }
    }

    /// Watches what the DaemonSet view needs: DaemonSets, pods,
    /// ControllerRevisions and Events in the namespace, and nodes when the
    /// user may list them (`nodes == false` leaves them out, with a note).
    pub fn daemonset(c: &Cluster, nodes: bool) -> Watch {
        let ns = Some(c.namespace.as_str());
        let mut changes = SelectAll::new();
        let cfg = watcher::Config::default;
        let daemons = start(api::<DaemonSet>(c, ns), cfg(), &mut changes);
        let pods = start(api::<Pod>(c, ns), cfg(), &mut changes);
        let revisions = start(api::<ControllerRevision>(c, ns), cfg(), &mut changes);
        let events = start(api::<Event>(c, ns), cfg(), &mut changes);
        let nodes = nodes.then(|| start(Api::<Node>::all(c.client.clone()), cfg(), &mut changes));
        Watch {
            stores: Stores {
                sets: None,
                daemons: Some(daemons),
                pods: Some(pods),
                claims: None,
                services: None,
                events: Some(events),
                nodes,
                revisions: Some(revisions),
            },
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
        let s = &self.stores;
        s.sets
            .as_ref()
            .is_none_or(|d| d.wait_until_ready().now_or_never().is_some())
            && s.nodes
                .as_ref()
                .is_none_or(|d| d.wait_until_ready().now_or_never().is_some())
            && s.revisions
                .as_ref()
                .is_none_or(|d| d.wait_until_ready().now_or_never().is_some())
            && s.daemons
                .as_ref()
                .is_none_or(|d| d.wait_until_ready().now_or_never().is_some())
            && s.pods
                .as_ref()
                .is_none_or(|d| d.wait_until_ready().now_or_never().is_some())
            && s.claims
                .as_ref()
                .is_none_or(|d| d.wait_until_ready().now_or_never().is_some())
            && s.services
                .as_ref()
                .is_none_or(|d| d.wait_until_ready().now_or_never().is_some())
            && s.events
                .as_ref()
                .is_none_or(|d| d.wait_until_ready().now_or_never().is_some())
    }
}

fn by_selector<K>(store: &Option<Store<K>>, selector: Option<&kube::core::Selector>) -> Vec<K>
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    match (store, selector) {
        (Some(st), Some(sel)) => owned(st.state_filter_selector(sel)),
        _ => Vec::new(),
    }
}

fn owned<K: Clone>(v: Vec<Arc<K>>) -> Vec<K> {
    v.into_iter().map(|a| (*a).clone()).collect()
}

impl Stores {
    /// Every StatefulSet and DaemonSet, as the fleet view wants them.
    pub fn fleet(&self) -> (Vec<StatefulSet>, Vec<DaemonSet>) {
        (
            self.sets
                .as_ref()
                .map(|d| owned(d.state()))
                .unwrap_or_default(),
            self.daemons
                .as_ref()
                .map(|d| owned(d.state()))
                .unwrap_or_default(),
        )
    }

    /// A snapshot of StatefulSet `name` from the stores.
    pub async fn sts_snapshot(&self, c: &Cluster, name: &str) -> Result<StsSnapshot, Failure> {
        let all_sets = self
            .sets
            .as_ref()
            .map(|d| owned(d.state()))
            .unwrap_or_default();
        let Some(sts) = all_sets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name))
            .cloned()
        else {
            return Err(missing(c, "statefulset", "statefulsets", name).await);
        };
        let spec = sts.spec.clone().unwrap_or_default();
        let selector = kube::core::Selector::try_from(spec.selector.clone()).ok();
        let pods = match (&self.pods, &selector) {
            (Some(p), Some(sel)) => owned(p.state_filter_selector(sel)),
            _ => Vec::new(),
        };
        let svc_name = spec.service_name.clone().unwrap_or_default();
        let service = self
            .services
            .as_ref()
            .and_then(|s| {
                s.state()
                    .into_iter()
                    .find(|v| v.metadata.name.as_deref() == Some(svc_name.as_str()))
            })
            .map(|v| (*v).clone());
        Ok(StsSnapshot {
            sts,
            all_sets,
            pods,
            namespace_pods: self.pods.as_ref().map(|p| owned(p.state())).unwrap_or_default(),
            claims: self.claims.as_ref().map(|s| owned(s.state())).unwrap_or_default(),
            service,
            events: self.events.as_ref().map(|s| owned(s.state())).unwrap_or_default(),
            notes: vec!["watch mode: PersistentVolumes and StorageClasses are not read (run without --watch for them)".into()],
            ..Default::default()
        })
    }

    /// A snapshot of DaemonSet `name` from the stores.
    pub async fn ds_snapshot(&self, c: &Cluster, name: &str) -> Result<DsSnapshot, Failure> {
        let ds = self
            .daemons
            .as_ref()
            .and_then(|d| {
                d.state()
                    .into_iter()
                    .find(|v| v.metadata.name.as_deref() == Some(name))
            })
            .map(|v| (*v).clone());
        let Some(ds) = ds else {
            return Err(missing(c, "daemonset", "daemonsets", name).await);
        };
        let spec = ds.spec.clone().unwrap_or_default();
        let selector = kube::core::Selector::try_from(spec.selector.clone()).ok();
        let pods: Vec<Pod> = by_selector(&self.pods, selector.as_ref());
        let revisions: Vec<ControllerRevision> = by_selector(&self.revisions, selector.as_ref());
        let nodes = self.nodes.as_ref().map(|n| owned(n.state()));
        let notes = if nodes.is_none() {
            vec!["not allowed to list nodes: node eligibility (taints, labels, readiness) not checked".to_string()]
        } else {
            Vec::new()
        };
        Ok(DsSnapshot {
            ds,
            nodes,
            pods,
            revisions,
            events: self
                .events
                .as_ref()
                .map(|s| owned(s.state()))
                .unwrap_or_default(),
            notes,
        })
    }
}
