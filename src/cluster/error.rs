//! Turning API errors into one clear line, an exit code and a hint.

use crate::error::Failure;

/// The Display chain of an error on one line ("a: b: c"), without repeats.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ").replace('\n', " ")
}

/// What a request was doing, for messages: `verb` on `resource` in `namespace`.
#[derive(Clone, Debug)]
pub struct Op<'a> {
    pub verb: &'a str,
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
}

/// Maps a kube error to a [`Failure`] with exit code 3 (cluster) and a hint.
pub fn classify(err: kube::Error, op: &Op<'_>, server: &str) -> Failure {
    let scope = op
        .namespace
        .map(|n| format!(" in namespace {n:?}"))
        .unwrap_or_default();
    match err {
        kube::Error::Api(status) => {
            let code = status.code;
            let mut f = classify_status(&status, op, &scope);
            f.status = Some(code);
            f
        }
        other => {
            let text = chain(&other);
            let lower = text.to_ascii_lowercase();
            let hint = if lower.contains("certificate")
                || lower.contains("tls")
                || lower.contains("unknownissuer")
            {
                "the server's certificate is not trusted by the kubeconfig's certificate-authority; check the kubeconfig's cluster entry"
            } else if lower.contains("timed out")
                || lower.contains("timeout")
                || lower.contains("elapsed")
            {
                "the server did not answer in time; check the network or raise --request-timeout"
            } else if lower.contains("refused")
                || lower.contains("dns")
                || lower.contains("connect")
            {
                "is the cluster running and the kubeconfig's server address right? check with: kubectl cluster-info"
            } else if lower.contains("exec") || lower.contains("auth") {
                "the kubeconfig's credential plugin or token failed; run it by hand to see why"
            } else {
                "check the kubeconfig and the network"
            };
            let text = text.trim_start_matches("ServiceError: ");
            Failure::cluster(format!("cannot reach the API server at {server}: {text}")).hint(hint)
        }
    }
}

fn is_write(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    )
}

fn classify_status(status: &kube::core::Status, op: &Op<'_>, scope: &str) -> Failure {
    match status.code {
        401 => Failure::cluster("the API server rejected the credentials (401 Unauthorized)").hint(
            "the token or client certificate in the kubeconfig is invalid or expired; log in again",
        ),
        403 => Failure::cluster(format!(
            "permission denied: cannot {} {}{scope}",
            op.verb, op.resource
        ))
        .hint(format!(
            "ask for the RBAC verb `{}` on `{}`{scope}; check with: kubectl auth can-i {} {}",
            op.verb, op.resource, op.verb, op.resource
        )),
        404 => Failure::cluster(format!("{}{scope}: not found", op.resource))
            .hint("it was deleted meanwhile, or this cluster does not serve that API; re-run to re-read"),
        409 => Failure::cluster(format!("conflict: {}", status.message))
            .hint("the object changed since it was read; re-run to re-plan"),
        code => Failure::cluster(format!(
            "the API server refused to {} {} ({code}): {}",
            op.verb, op.resource, status.message
        ))
        .hint(match code {
            429 | 500..=599 if is_write(op.verb) => {
                "writes are not retried and this one may or may not have been applied: check with kubectl sts status, then re-run"
            }
            429 => "the API server is overloaded (retried already); try again later",
            500..=599 => {
                "the API server failed (retried already); check its health with: kubectl get --raw /readyz"
            }
            _ => "the reason is the API server's; this request changed nothing",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, msg: &str) -> kube::Error {
        let mut s = kube::core::Status::failure(msg, "x");
        s.code = code;
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn forbidden_names_verb_and_resource() {
        let op = Op {
            verb: "patch",
            resource: "statefulsets.apps",
            namespace: Some("prod"),
        };
        let f = classify(api(403, "no"), &op, "https://x");
        assert_eq!(f.exit, crate::error::Exit::Cluster);
        assert!(f.is_forbidden() && !f.is_conflict());
        assert!(classify(api(409, "changed"), &op, "https://x").is_conflict());
        assert_eq!(
            f.message,
            "permission denied: cannot patch statefulsets.apps in namespace \"prod\""
        );
        assert!(
            f.hint
                .unwrap_or_default()
                .contains("kubectl auth can-i patch statefulsets.apps")
        );
    }

    #[test]
    fn server_errors_on_writes_do_not_claim_a_retry() {
        let write = Op {
            verb: "patch",
            resource: "statefulsets.apps",
            namespace: Some("prod"),
        };
        let read = Op {
            verb: "get",
            ..write.clone()
        };
        for code in [429, 503] {
            let w = classify(api(code, "busy"), &write, "https://x");
            assert!(
                w.hint
                    .unwrap_or_default()
                    .contains("may or may not have been applied"),
                "{code}"
            );
            let r = classify(api(code, "busy"), &read, "https://x");
            assert!(
                r.hint.unwrap_or_default().contains("retried already"),
                "{code}"
            );
        }
    }

    #[test]
    fn unauthorized_says_credentials() {
        let op = Op {
            verb: "list",
            resource: "pods",
            namespace: None,
        };
        let f = classify(api(401, "Unauthorized"), &op, "https://x");
        assert!(f.message.contains("401 Unauthorized"));
    }
}
