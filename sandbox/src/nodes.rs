//! kwok nodes: creating them and telling when they are usable.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Client;
use kube::api::{Api, PostParams};

/// A node to create.
#[derive(Clone, Debug, Default)]
pub struct NodeSpec {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// (key, value, effect)
    pub taints: Vec<(String, String, String)>,
    pub cpu: String,
    pub memory: String,
    pub pods: String,
}

impl NodeSpec {
    /// A worker with the usual kwok labels, 32 cpu, 256Gi, 110 pods.
    pub fn worker(name: &str) -> NodeSpec {
        let mut labels = BTreeMap::new();
        for (k, v) in [
            ("kubernetes.io/hostname", name),
            ("kubernetes.io/os", "linux"),
            ("kubernetes.io/arch", "amd64"),
            ("type", "kwok"),
        ] {
            labels.insert(k.to_string(), v.to_string());
        }
        NodeSpec {
            name: name.to_string(),
            labels,
            taints: Vec::new(),
            cpu: "32".into(),
            memory: "256Gi".into(),
            pods: "110".into(),
        }
    }

    /// A control-plane node tainted `node-role.kubernetes.io/control-plane:NoSchedule`.
    pub fn control_plane(name: &str) -> NodeSpec {
        let mut n = NodeSpec::worker(name);
        n.labels.insert(
            "node-role.kubernetes.io/control-plane".into(),
            String::new(),
        );
        n.taints.push((
            "node-role.kubernetes.io/control-plane".into(),
            String::new(),
            "NoSchedule".into(),
        ));
        n
    }

    /// The Node object.
    pub fn to_node(&self) -> Result<Node> {
        let taints: Vec<serde_json::Value> = self
            .taints
            .iter()
            .map(|(k, v, e)| {
                if v.is_empty() {
                    serde_json::json!({"key": k, "effect": e})
                } else {
                    serde_json::json!({"key": k, "value": v, "effect": e})
                }
            })
            .collect();
        let res = serde_json::json!({"cpu": self.cpu, "memory": self.memory, "pods": self.pods});
        Ok(serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": self.name,
                "labels": self.labels,
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"}
            },
            "spec": {"taints": taints},
            "status": {
                "capacity": res, "allocatable": res,
                "nodeInfo": {"kubeletVersion": "fake", "operatingSystem": "linux", "architecture": "amd64"}
            }
        }))?)
    }
}

/// How many node creations are in flight at once.
const CREATE_CONCURRENCY: usize = 32;

/// Creates the nodes, up to [`CREATE_CONCURRENCY`] at a time (thousands of
/// nodes in seconds rather than minutes).
pub async fn create_all(client: &Client, specs: &[NodeSpec]) -> Result<()> {
    let api: Api<Node> = Api::all(client.clone());
    let mut pending = specs.iter();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < CREATE_CONCURRENCY {
            let Some(spec) = pending.next() else { break };
            let node = spec.to_node()?;
            let name = spec.name.clone();
            let api = api.clone();
            running.spawn(async move {
                api.create(&PostParams::default(), &node)
                    .await
                    .map(|_| ())
                    .with_context(|| format!("creating node {name}"))
            });
        }
        match running.join_next().await {
            Some(res) => res.context("node creation task")??,
            None => return Ok(()),
        }
    }
}

/// Ready=True and no `node.kubernetes.io/not-ready` taint.
pub fn is_ready_untainted(n: &Node) -> bool {
    let ready = n
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let tainted = n
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|ts| ts.iter().any(|t| t.key == "node.kubernetes.io/not-ready"));
    ready && !tainted
}

/// The pod's Ready condition is True.
pub fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}
