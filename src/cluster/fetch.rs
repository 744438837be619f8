//! Reads snapshots: one LIST per kind, concurrently, never one request per
//! pod. Reads retry a few times on transient failures (429, 5xx, network);
//! writes never come through here.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    Event, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ListParams};
use kube::core::NamespaceResourceScope;
use serde::de::DeserializeOwned;

use super::Cluster;
use super::error::{Op, classify};
use crate::error::Failure;
use crate::model::{Inventory, StsSnapshot};

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
    let want = Want {
        daemons: false,
        volumes,
    };
    let inv = inventory(c, Some(c.namespace.as_str()), want).await?;
    let Some(sts) = inv
        .sets
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(name))
    else {
        return Err(missing(c, "statefulset", "statefulsets", name).await);
    };
    Ok(inv.sts_snapshot(sts))
}

/// What [`inventory`] reads besides StatefulSets, pods, claims, Services and
/// autoscalers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Want {
    /// DaemonSets (with nodes and ControllerRevisions when there are any).
    pub daemons: bool,
    /// PersistentVolumes (reclaim policies: the wide and JSON views).
    pub volumes: bool,
}

/// Like [`list`], but a 403 becomes an empty list plus a note: for kinds
/// that only enrich a view (conventions.md).
async fn list_optional<K>(
    c: &Cluster,
    ns: Option<&str>,
    resource: &str,
    why: &str,
) -> Result<(Vec<K>, Option<String>), Failure>
where
    K: kube::Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    match list::<K>(c, ns, &ListParams::default(), resource).await {
        Ok(v) => Ok((v, None)),
        Err(f) if f.is_forbidden() => Ok((
            Vec::new(),
            Some(format!("not allowed to list {resource}: {why} not checked")),
        )),
        Err(f) => Err(f),
    }
}

/// Reads everything the status views need in namespace `ns` (every
/// namespace with `None`): one LIST per kind, concurrently. Events and
/// StorageClasses are read in a second round, only when something lags or a
/// claim is not Bound; nodes and ControllerRevisions only when there are
/// DaemonSets. A 403 on a kind that only enriches the view is a note.
pub async fn inventory(c: &Cluster, ns: Option<&str>, want: Want) -> Result<Inventory, Failure> {
    let all = ListParams::default();
    let mut notes = Vec::new();
    let mut pv_notes = Vec::new();
    let (sets, daemons, pods, claims, services, hpas, volumes) = tokio::try_join!(
        list::<StatefulSet>(c, ns, &all, "statefulsets.apps"),
        async {
            if want.daemons {
                list::<DaemonSet>(c, ns, &all, "daemonsets.apps").await
            } else {
                Ok(Vec::new())
            }
        },
        list::<Pod>(c, ns, &all, "pods"),
        list::<PersistentVolumeClaim>(c, ns, &all, "persistentvolumeclaims"),
        list::<Service>(c, ns, &all, "services"),
        list_optional::<HorizontalPodAutoscaler>(
            c,
            ns,
            "horizontalpodautoscalers.autoscaling",
            "claims kept for an autoscaler's maxReplicas"
        ),
        async {
            if want.volumes {
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
    let (hpas, hpa_note) = hpas;
    notes.extend(hpa_note);
    notes.extend(pv_notes);
    let mut inv = Inventory {
        sets,
        daemons,
        pods,
        claims,
        services,
        hpas,
        volumes,
        notes,
        ..Default::default()
    };
    // Second round: nodes and revisions for DaemonSets; events explain
    // unhealthy pods, missing pods and pending claims; StorageClasses explain
    // pending claims.
    let pending = inv
        .claims
        .iter()
        .any(|pvc| pvc.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Bound"));
    let lagging = pending
        || inv.pods.iter().any(|p| !crate::analysis::pod::is_ready(p))
        || inv.sets.iter().any(|s| {
            let want = s.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1);
            let st = s.status.clone().unwrap_or_default();
            st.replicas != want || st.ready_replicas.unwrap_or(0) < want
        })
        || inv.daemons.iter().any(|d| {
            let st = d.status.clone().unwrap_or_default();
            st.current_number_scheduled < st.desired_number_scheduled
                || st.number_ready < st.desired_number_scheduled
        });
    let has_daemons = !inv.daemons.is_empty();
    let mut n2 = Vec::new();
    let mut n3 = Vec::new();
    let (events, classes, nodes, revisions) = tokio::try_join!(
        async {
            if lagging {
                list_optional::<Event>(c, ns, "events", "causes from events").await
            } else {
                Ok((Vec::new(), None))
            }
        },
        async {
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
        },
        async {
            if has_daemons {
                list_cluster_optional::<Node>(
                    c,
                    &all,
                    "nodes",
                    &mut n3,
                    "node eligibility (taints, labels, readiness)",
                )
                .await
            } else {
                Ok(None)
            }
        },
        async {
            if has_daemons {
                list::<ControllerRevision>(c, ns, &all, "controllerrevisions.apps").await
            } else {
                Ok(Vec::new())
            }
        },
    )?;
    let (events, event_note) = events;
    inv.events = events;
    inv.notes.extend(event_note);
    inv.storage_classes = classes;
    inv.nodes = nodes;
    inv.revisions = revisions;
    inv.notes.extend(n2);
    inv.notes.extend(n3);
    Ok(inv)
}

/// Every StatefulSet and DaemonSet in the namespace (names for completion).
pub async fn sets_and_daemons(c: &Cluster) -> Result<(Vec<StatefulSet>, Vec<DaemonSet>), Failure> {
    let ns = Some(c.namespace.as_str());
    let lp = ListParams::default();
    tokio::try_join!(
        list::<StatefulSet>(c, ns, &lp, "statefulsets.apps"),
        list::<DaemonSet>(c, ns, &lp, "daemonsets.apps"),
    )
}

/// Whether this user may list `K` in `ns` (one LIST with `limit=1`).
pub async fn can_list<K>(c: &Cluster, ns: Option<&str>, resource: &str) -> Result<bool, Failure>
where
    K: kube::Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    match list::<K>(c, ns, &ListParams::default().limit(1), resource).await {
        Ok(_) => Ok(true),
        Err(f) if f.is_forbidden() => Ok(false),
        Err(f) => Err(f),
    }
}

/// Everything the fleet view needs in the namespace (or all with `all_ns`):
/// every StatefulSet and DaemonSet, and what their verdicts are made from.
pub async fn fleet(c: &Cluster, all_ns: bool) -> Result<Inventory, Failure> {
    let ns = if all_ns {
        None
    } else {
        Some(c.namespace.as_str())
    };
    let want = Want {
        daemons: true,
        volumes: false,
    };
    let inv = inventory(c, ns, want).await?;
    if ns.is_some() && inv.sets.is_empty() && inv.daemons.is_empty() {
        namespace_exists(c).await?;
    }
    Ok(inv)
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
