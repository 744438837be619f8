//! Reads the DaemonSet snapshot for `status ds/NAME`.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, ListParams};

use super::Cluster;
use super::error::{Op, classify};
use super::fetch::{list, list_cluster_optional, missing, read, selector_string};
use crate::error::Failure;
use crate::model::DsSnapshot;

/// Reads one DaemonSet and everything `status ds/NAME` needs about it.
pub async fn ds_snapshot(c: &Cluster, name: &str) -> Result<DsSnapshot, Failure> {
    let ns = c.namespace.as_str();
    let api: Api<DaemonSet> = Api::namespaced(c.client.clone(), ns);
    let op = Op {
        verb: "get",
        resource: "daemonsets.apps",
        namespace: Some(ns),
    };
    let Some(ds) = read(|| api.get_opt(name))
        .await
        .map_err(|e| classify(e, &op, &c.server))?
    else {
        return Err(missing(c, "daemonset", "daemonsets", name).await);
    };
    let spec = ds.spec.clone().unwrap_or_default();
    let sel = ListParams::default().labels(&selector_string(&spec.selector));
    let mut notes = Vec::new();
    let all = ListParams::default();
    let (nodes, pods, revisions) = tokio::try_join!(
        list_cluster_optional::<Node>(
            c,
            &all,
            "nodes",
            &mut notes,
            "node eligibility (taints, labels, readiness)"
        ),
        list::<Pod>(c, Some(ns), &sel, "pods"),
        list::<ControllerRevision>(c, Some(ns), &sel, "controllerrevisions.apps"),
    )?;
    // Events explain problems (FailedCreate, FailedScheduling, FailedDaemonPod):
    // read them only when something is missing or unready.
    let st = ds.status.clone().unwrap_or_default();
    let lagging = st.current_number_scheduled < st.desired_number_scheduled
        || st.number_ready < st.desired_number_scheduled
        || pods.iter().any(|p| !crate::analysis::pod::is_ready(p));
    // Events only enrich the view: a 403 is a note, never a failure.
    let events = if lagging {
        match list::<Event>(c, Some(ns), &all, "events").await {
            Ok(v) => v,
            Err(f) if f.is_forbidden() => {
                notes.push("not allowed to list events: why pods are missing or failing (FailedCreate, FailedDaemonPod) was not checked".to_string());
                Vec::new()
            }
            Err(f) => return Err(f),
        }
    } else {
        Vec::new()
    };
    Ok(DsSnapshot {
        ds,
        nodes,
        pods,
        revisions,
        events,
        notes,
    })
}

/// Whether this user may list nodes (one LIST with `limit=1`).
pub async fn can_list_nodes(c: &Cluster) -> Result<bool, Failure> {
    match super::fetch::list_cluster::<Node>(c, &ListParams::default().limit(1), "nodes").await {
        Ok(_) => Ok(true),
        Err(f) if f.is_forbidden() => Ok(false),
        Err(f) => Err(f),
    }
}

/// Whether node `name` exists (`None`: not allowed to read nodes).
pub async fn node_exists(c: &Cluster, name: &str) -> Result<Option<bool>, Failure> {
    let api: Api<Node> = Api::all(c.client.clone());
    let op = Op {
        verb: "get",
        resource: "nodes",
        namespace: None,
    };
    match read(|| api.get_opt(name)).await {
        Ok(n) => Ok(Some(n.is_some())),
        Err(e) => {
            let f = classify(e, &op, &c.server);
            if f.is_forbidden() { Ok(None) } else { Err(f) }
        }
    }
}
