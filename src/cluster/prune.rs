//! Reads and the guarded DELETE for `prune-pvcs`.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, ListParams, Preconditions};

use super::Cluster;
use super::error::{Op, classify};
use super::fetch::{list, list_cluster_optional, read};
use crate::error::Failure;

/// Everything the prune planner reads.
#[derive(Clone, Debug, Default)]
pub struct PruneSnapshot {
    pub sets: Vec<StatefulSet>,
    pub pods: Vec<Pod>,
    pub claims: Vec<PersistentVolumeClaim>,
    pub volumes: Option<Vec<PersistentVolume>>,
    pub hpas: Vec<HorizontalPodAutoscaler>,
    pub notes: Vec<String>,
}

async fn hpas(
    c: &Cluster,
    ns: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<Vec<HorizontalPodAutoscaler>, Failure> {
    match list::<HorizontalPodAutoscaler>(
        c,
        ns,
        &ListParams::default(),
        "horizontalpodautoscalers.autoscaling",
    )
    .await
    {
        Ok(v) => Ok(v),
        Err(f) if f.is_forbidden() => {
            notes.push(
                "not allowed to list horizontalpodautoscalers: autoscaler limits not checked"
                    .to_string(),
            );
            Ok(Vec::new())
        }
        Err(f) => Err(f),
    }
}

/// The API server's 400 on a label selector is a usage error (exit 2).
fn bad_selector(f: Failure, selector: Option<&str>) -> Failure {
    match selector {
        Some(sel) if f.status == Some(400) => {
            Failure::usage(format!("invalid --selector {sel:?}: {}", f.server_reason()))
                .hint("e.g. -l app=web, -l 'app=web,tier!=cache' or -l 'tier in (db,cache)'")
        }
        _ => f,
    }
}

/// Reads sets, pods, claims (filtered by `selector`), HPAs and PVs in `ns`
/// (`None`: every namespace), concurrently, one LIST per kind.
pub async fn snapshot(
    c: &Cluster,
    ns: Option<&str>,
    selector: Option<&str>,
) -> Result<PruneSnapshot, Failure> {
    let all = ListParams::default();
    let claims_lp = match selector {
        Some(s) => ListParams::default().labels(s),
        None => ListParams::default(),
    };
    let mut notes = Vec::new();
    let mut pv_notes = Vec::new();
    let (sets, pods, claims, hpas, volumes) = tokio::try_join!(
        list::<StatefulSet>(c, ns, &all, "statefulsets.apps"),
        list::<Pod>(c, ns, &all, "pods"),
        async {
            list::<PersistentVolumeClaim>(c, ns, &claims_lp, "persistentvolumeclaims")
                .await
                .map_err(|f| bad_selector(f, selector))
        },
        hpas(c, ns, &mut notes),
        list_cluster_optional::<PersistentVolume>(
            c,
            &all,
            "persistentvolumes",
            &mut pv_notes,
            "reclaim policies"
        ),
    )?;
    notes.extend(pv_notes);
    if ns.is_some() && sets.is_empty() && claims.is_empty() {
        super::fetch::namespace_exists(c).await?;
    }
    Ok(PruneSnapshot {
        sets,
        pods,
        claims,
        volumes,
        hpas,
        notes,
    })
}

/// The final re-read before one DELETE: every set, pod and HPA in `ns`
/// and the claim itself (absent when it is gone).
pub async fn recheck(c: &Cluster, ns: &str, claim: &str) -> Result<PruneSnapshot, Failure> {
    let all = ListParams::default();
    let api: Api<PersistentVolumeClaim> = Api::namespaced(c.client.clone(), ns);
    let op = Op {
        verb: "get",
        resource: "persistentvolumeclaims",
        namespace: Some(ns),
    };
    let mut notes = Vec::new();
    let (sets, pods, hpas, pvc) = tokio::try_join!(
        list::<StatefulSet>(c, Some(ns), &all, "statefulsets.apps"),
        list::<Pod>(c, Some(ns), &all, "pods"),
        hpas(c, Some(ns), &mut notes),
        async {
            read(|| api.get_opt(claim))
                .await
                .map_err(|e| classify(e, &op, &c.server))
        },
    )?;
    Ok(PruneSnapshot {
        sets,
        pods,
        claims: pvc.into_iter().collect(),
        volumes: None,
        hpas,
        notes,
    })
}

/// After a DELETE: the sets named and the pods in `ns`.
pub async fn after_delete(c: &Cluster, ns: &str) -> Result<(Vec<StatefulSet>, Vec<Pod>), Failure> {
    let all = ListParams::default();
    tokio::try_join!(
        list::<StatefulSet>(c, Some(ns), &all, "statefulsets.apps"),
        list::<Pod>(c, Some(ns), &all, "pods"),
    )
}

/// What a guarded DELETE did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deleted {
    /// Accepted (or, with server dry-run, validated).
    Done,
    /// The uid/resourceVersion precondition failed: the claim changed.
    Changed(String),
    /// The claim no longer exists.
    Gone,
}

/// Deletes one claim with uid + resourceVersion preconditions; never retried.
pub async fn delete_claim(
    c: &Cluster,
    ns: &str,
    name: &str,
    uid: &str,
    rv: &str,
    server_dry_run: bool,
) -> Result<Deleted, Failure> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(c.client.clone(), ns);
    let dp = DeleteParams {
        dry_run: server_dry_run,
        preconditions: Some(Preconditions {
            uid: Some(uid.to_string()),
            resource_version: Some(rv.to_string()),
        }),
        ..DeleteParams::default()
    };
    match api.delete(name, &dp).await {
        Ok(_) => Ok(Deleted::Done),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(Deleted::Changed(s.message.clone())),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(Deleted::Gone),
        Err(e) => Err(classify(
            e,
            &Op {
                verb: "delete",
                resource: "persistentvolumeclaims",
                namespace: Some(ns),
            },
            &c.server,
        )),
    }
}
