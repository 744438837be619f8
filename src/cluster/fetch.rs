//! Reads snapshots: one LIST per kind, concurrently, never one request per
//! pod. Reads retry a few times on transient failures (429, 5xx, network);
//! writes never come through here.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Event, Namespace, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ListParams};
use kube::core::NamespaceResourceScope;
use serde::de::DeserializeOwned;

use super::Cluster;
use super::error::{Op, classify};
use crate::error::Failure;
use crate::model::StsSnapshot;

/// Renders a LabelSelector in the API's string syntax.
pub fn selector_string(sel: &LabelSelector) -> String {
    let mut parts = Vec::new();
    if let Some(ml) = &sel.match_labels {
        for (k, v) in ml {
            parts.push(format!("{k}={v}"));
        }
    }
    for e in sel.match_expressions.iter().flatten() {
        let vals = e.values.clone().unwrap_or_default().join(",");
        match e.operator.as_str() {
            "In" => parts.push(format!("{} in ({vals})", e.key)),
            "NotIn" => parts.push(format!("{} notin ({vals})", e.key)),
            "Exists" => parts.push(e.key.clone()),
            "DoesNotExist" => parts.push(format!("!{}", e.key)),
            _ => {}
        }
    }
    parts.join(",")
}

fn transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 429 || s.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// Runs a read with bounded retries and back-off on transient failures.
pub async fn read<T, F, Fut>(f: F) -> Result<T, kube::Error>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < 3 && transient(&e) => {
                attempt += 1;
                tokio::time::sleep(delay).await;
                delay *= 3;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Lists namespaced `K` in `ns`, or across all namespaces with `None`.
pub async fn list<K>(
    c: &Cluster,
    ns: Option<&str>,
    lp: &ListParams,
    resource: &str,
) -> Result<Vec<K>, Failure>
where
    K: kube::Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = match ns {
        Some(n) => Api::namespaced(c.client.clone(), n),
        None => Api::all(c.client.clone()),
    };
    list_api(c, api, ns, lp, resource).await
}

/// Lists cluster-scoped `K`.
pub async fn list_cluster<K>(
    c: &Cluster,
    lp: &ListParams,
    resource: &str,
) -> Result<Vec<K>, Failure>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    list_api(c, Api::all(c.client.clone()), None, lp, resource).await
}

async fn list_api<K>(
    c: &Cluster,
    api: Api<K>,
    ns: Option<&str>,
    lp: &ListParams,
    resource: &str,
) -> Result<Vec<K>, Failure>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let op = Op {
        verb: "list",
        resource,
        namespace: ns,
    };
    // Pages of PAGE_SIZE keep a huge list from being buffered whole.
    let mut items = Vec::new();
    let mut page = lp.clone();
    if page.limit.is_none() {
        page.limit = Some(PAGE_SIZE);
    }
    loop {
        let l = read(|| api.list(&page))
            .await
            .map_err(|e| classify(e, &op, &c.server))?;
        let full = lp
            .limit
            .is_some_and(|n| items.len() + l.items.len() >= n as usize);
        items.extend(l.items);
        match l.metadata.continue_ {
            Some(token) if !token.is_empty() && !full => page.continue_token = Some(token),
            _ => return Ok(items),
        }
    }
}

/// Items per LIST page.
pub const PAGE_SIZE: u32 = 1000;

/// Like [`list_cluster`], but a 403 becomes `None` plus a note.
pub(crate) async fn list_cluster_optional<K>(
    c: &Cluster,
    lp: &ListParams,
    resource: &str,
    notes: &mut Vec<String>,
    why: &str,
) -> Result<Option<Vec<K>>, Failure>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    match list_cluster::<K>(c, lp, resource).await {
        Ok(v) => Ok(Some(v)),
        Err(f) if f.is_forbidden() => {
            notes.push(format!("not allowed to list {resource}: {why} not checked"));
            Ok(None)
        }
        Err(f) => Err(f),
    }
}

pub(crate) fn not_found(kind: &str, plural: &str, name: &str, ns: &str) -> Failure {
    Failure::cluster(format!("{kind} {name:?} not found in namespace {ns:?}"))
        .hint(format!("list them with: kubectl get {plural} -n {ns}"))
}

/// Distinguishes "no such object" from "no such namespace".
pub(crate) async fn missing(c: &Cluster, kind: &str, plural: &str, name: &str) -> Failure {
    match namespace_exists(c).await {
        Err(f) => f,
        Ok(()) => not_found(kind, plural, name, &c.namespace),
    }
}

/// Fails with "namespace not found" when the API server says the namespace
/// does not exist; any other answer (e.g. no right to read namespaces)
/// counts as existing.
pub(crate) async fn namespace_exists(c: &Cluster) -> Result<(), Failure> {
    let api: Api<Namespace> = Api::all(c.client.clone());
    if let Ok(None) = read(|| api.get_opt(&c.namespace)).await {
        return Err(
            Failure::cluster(format!("namespace {:?} not found", c.namespace))
                .hint("list namespaces with: kubectl get namespaces"),
        );
    }
    Ok(())
}

/// Reads one StatefulSet and everything `status` needs about it.
pub async fn sts_snapshot(c: &Cluster, name: &str) -> Result<StsSnapshot, Failure> {
    sts_snapshot_with(c, name, true).await
}

/// Like [`sts_snapshot`]; PersistentVolumes are read only with `volumes`
/// (the plain table does not show them).
pub async fn sts_snapshot_with(
    c: &Cluster,
    name: &str,
    volumes: bool,
) -> Result<StsSnapshot, Failure> {
    let ns = c.namespace.as_str();
    let all_sets: Vec<StatefulSet> =
        list(c, Some(ns), &ListParams::default(), "statefulsets.apps").await?;
    let Some(sts) = all_sets
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(name))
        .cloned()
    else {
        return Err(missing(c, "statefulset", "statefulsets", name).await);
    };
    let spec = sts.spec.clone().unwrap_or_default();
    let sel = ListParams::default().labels(&selector_string(&spec.selector));
    let svc_name = spec.service_name.clone().unwrap_or_default();
    let slices_lp = ListParams::default().labels(&format!("kubernetes.io/service-name={svc_name}"));
    let mut notes = Vec::new();
    let mut pv_notes = Vec::new();
    let svc_api: Api<Service> = Api::namespaced(c.client.clone(), ns);
    let svc_op = Op {
        verb: "get",
        resource: "services",
        namespace: Some(ns),
    };
    let all = ListParams::default();
    let (namespace_pods, claims, revisions, slices, service, volumes) = tokio::try_join!(
        list::<Pod>(c, Some(ns), &all, "pods"),
        list::<PersistentVolumeClaim>(c, Some(ns), &all, "persistentvolumeclaims"),
        list::<ControllerRevision>(c, Some(ns), &sel, "controllerrevisions.apps"),
        async {
            if svc_name.is_empty() {
                Ok(Vec::new())
            } else {
                list::<EndpointSlice>(c, Some(ns), &slices_lp, "endpointslices.discovery.k8s.io")
                    .await
            }
        },
        async {
            if svc_name.is_empty() {
                return Ok(None);
            }
            read(|| svc_api.get_opt(&svc_name))
                .await
                .map_err(|e| classify(e, &svc_op, &c.server))
        },
        async {
            if volumes {
                list_cluster_optional::<PersistentVolume>(
                    c,
                    &all,
                    "persistentvolumes",
                    &mut pv_notes,
                    "volume reclaim policies",
                )
                .await
            } else {
                Ok(None)
            }
        },
    )?;
    notes.extend(pv_notes);
    // One LIST of every pod (the claim rules look at any pod that mounts a
    // claim); the set's own pods are those its selector matches.
    let pods = match kube::core::Selector::try_from(spec.selector.clone()) {
        Ok(sel) => namespace_pods
            .iter()
            .filter(|p| {
                kube::core::SelectorExt::matches(
                    &sel,
                    &p.metadata.labels.clone().unwrap_or_default(),
                )
            })
            .cloned()
            .collect(),
        Err(_) => Vec::new(),
    };
    let mut snap = StsSnapshot {
        sts,
        all_sets,
        pods,
        namespace_pods,
        claims,
        service,
        endpoint_slices: slices,
        revisions,
        volumes,
        storage_classes: None,
        events: Vec::new(),
        hpas: Vec::new(),
        notes,
    };
    // Second round, only when a finding needs it: events explain unhealthy
    // pods and pending claims; StorageClasses explain pending claims.
    let unhealthy = snap.pods.iter().any(|p| !crate::analysis::pod::is_ready(p));
    let pending = snap
        .claims
        .iter()
        .any(|pvc| pvc.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Bound"));
    if unhealthy || pending {
        let mut n2 = Vec::new();
        let (events, classes) =
            tokio::try_join!(list::<Event>(c, Some(ns), &all, "events"), async {
                if pending {
                    list_cluster_optional::<StorageClass>(
                        c,
                        &all,
                        "storageclasses.storage.k8s.io",
                        &mut n2,
                        "storage classes",
                    )
                    .await
                } else {
                    Ok(None)
                }
            })?;
        snap.events = events;
        snap.storage_classes = classes;
        snap.notes.extend(n2);
    }
    Ok(snap)
}

/// Every StatefulSet and DaemonSet in the namespace (or all with `all_ns`).
pub async fn fleet(
    c: &Cluster,
    all_ns: bool,
) -> Result<(Vec<StatefulSet>, Vec<DaemonSet>), Failure> {
    let ns = if all_ns {
        None
    } else {
        Some(c.namespace.as_str())
    };
    let lp = ListParams::default();
    let (sets, daemons) = tokio::try_join!(
        list::<StatefulSet>(c, ns, &lp, "statefulsets.apps"),
        list::<DaemonSet>(c, ns, &lp, "daemonsets.apps"),
    )?;
    if ns.is_some() && sets.is_empty() && daemons.is_empty() {
        namespace_exists(c).await?;
    }
    Ok((sets, daemons))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn api_error(code: u16) -> kube::Error {
        let mut s = kube::core::Status::failure("injected", "Injected");
        s.code = code;
        kube::Error::Api(Box::new(s))
    }

    /// Calls `read` with a request that fails with `code` the first
    /// `failures` times; returns the result, the calls made and the time
    /// spent (tokio's paused clock).
    async fn attempts(code: u16, failures: u32) -> (Result<u32, kube::Error>, u32, Duration) {
        let calls = AtomicU32::new(0);
        let t0 = tokio::time::Instant::now();
        let r = read(|| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < failures {
                    Err(api_error(code))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        (r, calls.load(Ordering::SeqCst), t0.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn reads_retry_transient_failures_with_growing_back_off() {
        let (r, calls, took) = attempts(503, 3).await;
        assert_eq!(r.ok(), Some(3));
        assert_eq!(calls, 4);
        assert_eq!(took, Duration::from_millis(200 + 600 + 1800));
        let (r, calls, _) = attempts(429, 1).await;
        assert_eq!(r.ok(), Some(1));
        assert_eq!(calls, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn reads_give_up_after_three_retries() {
        let (r, calls, _) = attempts(500, 10).await;
        assert!(matches!(r, Err(kube::Error::Api(s)) if s.code == 500));
        assert_eq!(calls, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn answers_that_a_retry_cannot_change_are_not_retried() {
        for code in [400, 401, 403, 404, 409, 422] {
            let (r, calls, took) = attempts(code, 10).await;
            assert!(r.is_err());
            assert_eq!(calls, 1, "{code}");
            assert_eq!(took, Duration::ZERO);
        }
    }

    #[test]
    fn selector_syntax() {
        let sel = LabelSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into(), "b".into()]),
                },
                LabelSelectorRequirement {
                    key: "x".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert_eq!(selector_string(&sel), "app=web,tier in (a,b),!x");
    }
}
