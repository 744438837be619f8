//! Up-front permission checks (SelfSubjectAccessReview), so that a write
//! command stops before its first change when a right is missing.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use super::Cluster;
use super::error::{Op, classify};
use crate::error::Failure;

/// One right a command needs.
#[derive(Clone, Copy, Debug)]
pub struct Need<'a> {
    pub verb: &'a str,
    /// API group ("" for core).
    pub group: &'a str,
    /// Plural resource name.
    pub resource: &'a str,
}

/// Whether the current user may `verb` `resource` in `namespace`.
pub async fn can_i(c: &Cluster, need: Need<'_>, namespace: &str) -> Result<bool, Failure> {
    let api: Api<SelfSubjectAccessReview> = Api::all(c.client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(need.verb.to_string()),
                group: Some(need.group.to_string()),
                resource: Some(need.resource.to_string()),
                namespace: Some(namespace.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let op = Op {
        verb: "create",
        resource: "selfsubjectaccessreviews.authorization.k8s.io",
        namespace: None,
    };
    let out = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| classify(e, &op, &c.server))?;
    Ok(out.status.is_some_and(|s| s.allowed))
}

/// Fails (exit 3) naming the first right the user lacks.
pub async fn require(c: &Cluster, needs: &[Need<'_>], namespace: &str) -> Result<(), Failure> {
    for n in needs {
        if !can_i(c, *n, namespace).await? {
            let res = if n.group.is_empty() {
                n.resource.to_string()
            } else {
                format!("{}.{}", n.resource, n.group)
            };
            return Err(Failure::cluster(format!(
                "permission denied: cannot {} {res} in namespace {namespace:?}; nothing was changed",
                n.verb
            ))
            .hint(format!(
                "ask for the RBAC verb `{}` on `{res}` in namespace {namespace:?}; check with: kubectl auth can-i {} {res} -n {namespace}",
                n.verb, n.verb
            )));
        }
    }
    Ok(())
}
