//! The canary's API calls: guarded patches, guarded pod deletes, Events, and
//! a watch (reflector stores over the StatefulSet and its pods) that wakes the
//! command on every change.

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use tokio::sync::mpsc;

use super::Cluster;
use super::error::{Op, classify};
use super::fetch::{self, read, selector_string};
use crate::error::Failure;

/// The field manager of every write.
pub const MANAGER: &str = "kubectl-sts";

/// Reads the StatefulSet (exit 3 when missing).
pub async fn get_sts(c: &Cluster, name: &str) -> Result<StatefulSet, Failure> {
    let api: Api<StatefulSet> = Api::namespaced(c.client.clone(), &c.namespace);
    let op = Op {
        verb: "get",
        resource: "statefulsets.apps",
        namespace: Some(&c.namespace),
    };
    match read(|| api.get_opt(name))
        .await
        .map_err(|e| classify(e, &op, &c.server))?
    {
        Some(s) => Ok(s),
        None => Err(fetch::missing(c, "statefulset", "statefulsets", name).await),
    }
}

/// The StatefulSet's pods (by its selector).
pub async fn pods(c: &Cluster, sts: &StatefulSet) -> Result<Vec<Pod>, Failure> {
    let sel = sts
        .spec
        .as_ref()
        .map(|s| selector_string(&s.selector))
        .unwrap_or_default();
    fetch::list::<Pod>(
        c,
        Some(&c.namespace),
        &ListParams::default().labels(&sel),
        "pods",
    )
    .await
}

/// The ControllerRevision `name`, if it exists.
pub async fn revision(c: &Cluster, name: &str) -> Result<Option<ControllerRevision>, Failure> {
    let api: Api<ControllerRevision> = Api::namespaced(c.client.clone(), &c.namespace);
    let op = Op {
        verb: "get",
        resource: "controllerrevisions.apps",
        namespace: Some(&c.namespace),
    };
    read(|| api.get_opt(name))
        .await
        .map_err(|e| classify(e, &op, &c.server))
}

/// The name of an HPA targeting StatefulSet `name`, if any (None when not readable).
pub async fn hpa_for(c: &Cluster, name: &str) -> Result<Option<String>, Failure> {
    let hpas = match fetch::list::<HorizontalPodAutoscaler>(
        c,
        Some(&c.namespace),
        &ListParams::default(),
        "horizontalpodautoscalers.autoscaling",
    )
    .await
    {
        Ok(h) => h,
        Err(f) if f.is_forbidden() => return Ok(None),
        Err(f) => return Err(f),
    };
    Ok(hpas.into_iter().find_map(|h| -> Option<String> {
        let t = &h.spec.scale_target_ref;
        (t.kind == "StatefulSet" && t.name == name)
            .then(|| h.metadata.name.clone().unwrap_or_default())
    }))
}

/// Sends a strategic-merge patch to the StatefulSet (the patch carries its
/// resourceVersion precondition). `server_dry_run` adds dryRun=All.
pub async fn patch_sts(
    c: &Cluster,
    name: &str,
    patch: &Value,
    server_dry_run: bool,
) -> Result<StatefulSet, Failure> {
    let api: Api<StatefulSet> = Api::namespaced(c.client.clone(), &c.namespace);
    let mut pp = PatchParams {
        field_manager: Some(MANAGER.to_string()),
        ..PatchParams::default()
    };
    if server_dry_run {
        pp = pp.dry_run();
    }
    let op = Op {
        verb: "patch",
        resource: "statefulsets.apps",
        namespace: Some(&c.namespace),
    };
    api.patch(name, &pp, &Patch::Strategic(patch))
        .await
        .map_err(|e| classify(e, &op, &c.server))
}

/// Deletes a pod with uid + resourceVersion preconditions. `Ok(false)` when
/// it changed or vanished meanwhile (re-check on the next event).
pub async fn delete_pod(c: &Cluster, name: &str, uid: &str, rv: &str) -> Result<bool, Failure> {
    let api: Api<Pod> = Api::namespaced(c.client.clone(), &c.namespace);
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(uid.to_string()),
            resource_version: Some(rv.to_string()),
        }),
        ..DeleteParams::default()
    };
    let op = Op {
        verb: "delete",
        resource: "pods",
        namespace: Some(&c.namespace),
    };
    match api.delete(name, &dp).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => Ok(false),
        Err(e) => Err(classify(e, &op, &c.server)),
    }
}

/// The Kubernetes user name the API server sees (SelfSubjectReview), if it
/// says; recorded in the canary state as who started, paused or aborted it.
pub async fn whoami(c: &Cluster) -> Option<String> {
    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    let api: Api<SelfSubjectReview> = Api::all(c.client.clone());
    let r = api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .ok()?;
    r.status?.user_info?.username
}

/// Records an Event on the StatefulSet (best effort: a failure is returned
/// for a note, never fatal).
pub async fn record_event(
    c: &Cluster,
    sts: &StatefulSet,
    reason: &str,
    message: &str,
    warning: bool,
) -> Result<(), Failure> {
    let api: Api<Event> = Api::namespaced(c.client.clone(), &c.namespace);
    let name = sts.metadata.name.clone().unwrap_or_default();
    let now = Timestamp::now();
    let ev = Event {
        metadata: kube::api::ObjectMeta {
            name: Some(format!("{name}.{:x}", now.as_nanosecond())),
            namespace: Some(c.namespace.clone()),
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: Some("apps/v1".into()),
            kind: Some("StatefulSet".into()),
            name: Some(name),
            namespace: Some(c.namespace.clone()),
            uid: sts.metadata.uid.clone(),
            resource_version: sts.metadata.resource_version.clone(),
            ..Default::default()
        },
        reason: Some(reason.into()),
        message: Some(message.into()),
        type_: Some(if warning { "Warning" } else { "Normal" }.into()),
        source: Some(EventSource {
            component: Some(MANAGER.into()),
            host: None,
        }),
        reporting_component: Some(MANAGER.into()),
        reporting_instance: Some(MANAGER.into()),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        event_time: Some(MicroTime(now)),
        action: Some(reason.into()),
        count: Some(1),
        ..Default::default()
    };
    let pp = PostParams {
        field_manager: Some(MANAGER.into()),
        ..PostParams::default()
    };
    let op = Op {
        verb: "create",
        resource: "events",
        namespace: Some(&c.namespace),
    };
    api.create(&pp, &ev)
        .await
        .map(|_| ())
        .map_err(|e| classify(e, &op, &c.server))
}

/// A live view of the StatefulSet and its pods, kept by watches.
pub struct Watch {
    sts: Store<StatefulSet>,
    pods: Store<Pod>,
    failed_creates: Store<Event>,
    ticks: mpsc::Receiver<()>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Watch {
    /// Starts watching StatefulSet `name` and the pods matching its selector.
    pub async fn start(c: &Cluster, sts: &StatefulSet) -> Watch {
        let name = sts.metadata.name.clone().unwrap_or_default();
        let sel = sts
            .spec
            .as_ref()
            .map(|s| selector_string(&s.selector))
            .unwrap_or_default();
        let (tx, rx) = mpsc::channel(64);
        let sts_api: Api<StatefulSet> = Api::namespaced(c.client.clone(), &c.namespace);
        let pod_api: Api<Pod> = Api::namespaced(c.client.clone(), &c.namespace);
        let (sts_store, sts_writer) = reflector::store();
        let (pod_store, pod_writer) = reflector::store();
        let s_stream = reflector::reflector(
            sts_writer,
            watcher(
                sts_api,
                watcher::Config::default().fields(&format!("metadata.name={name}")),
            )
            .default_backoff(),
        );
        let p_stream = reflector::reflector(
            pod_writer,
            watcher(pod_api, watcher::Config::default().labels(&sel)).default_backoff(),
        );
        // The controller's FailedCreate events on this StatefulSet: pods it
        // cannot create (admission, quota, validation) never show up as pods.
        let event_api: Api<Event> = Api::namespaced(c.client.clone(), &c.namespace);
        let (event_store, event_writer) = reflector::store();
        let e_stream = reflector::reflector(
            event_writer,
            watcher(
                event_api,
                watcher::Config::default().fields(&format!(
                    "involvedObject.kind=StatefulSet,involvedObject.name={name},reason=FailedCreate"
                )),
            )
            .default_backoff(),
        );
        let t2 = tx.clone();
        let e = tokio::spawn(async move {
            let mut s = std::pin::pin!(e_stream);
            while s.next().await.is_some() {
                let _ = t2.try_send(());
            }
        });
        let t1 = tx.clone();
        let a = tokio::spawn(async move {
            let mut s = std::pin::pin!(s_stream);
            while s.next().await.is_some() {
                let _ = t1.try_send(());
            }
        });
        let b = tokio::spawn(async move {
            let mut s = std::pin::pin!(p_stream);
            while s.next().await.is_some() {
                let _ = tx.try_send(());
            }
        });
        Watch {
            sts: sts_store,
            pods: pod_store,
            failed_creates: event_store,
            ticks: rx,
            tasks: vec![a, b, e],
        }
    }

    /// Waits until both stores hold their initial lists.
    pub async fn ready(&self) {
        let _ = self.sts.wait_until_ready().await;
        let _ = self.pods.wait_until_ready().await;
    }

    /// Waits for the next change.
    pub async fn changed(&mut self) {
        if self.ticks.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
        // Coalesce a burst of events into one evaluation.
        while self.ticks.try_recv().is_ok() {}
    }

    /// The FailedCreate events on the StatefulSet seen so far.
    pub fn failed_creates(&self) -> Vec<Event> {
        self.failed_creates
            .state()
            .iter()
            .map(|e| Event::clone(e))
            .collect()
    }

    /// The current StatefulSet and pods.
    pub fn snapshot(&self) -> (Option<StatefulSet>, Vec<Pod>) {
        let sts = self.sts.state().first().map(|s| StatefulSet::clone(s));
        let pods = self
            .pods
            .state()
            .iter()
            .map(|p: &Arc<Pod>| Pod::clone(p))
            .collect();
        (sts, pods)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
