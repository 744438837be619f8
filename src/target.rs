//! `[TYPE/]NAME` arguments, as kubectl spells them.

use crate::error::Failure;

/// The kinds kubectl-sts works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    StatefulSet,
    DaemonSet,
}

/// A parsed `[TYPE/]NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub kind: Kind,
    pub name: String,
}

/// Parses `web`, `sts/web`, `statefulset/web`, `statefulsets.apps/web`,
/// `ds/x`, `daemonset/x`, … A bare name is a StatefulSet.
pub fn parse(arg: &str) -> Result<Target, Failure> {
    let (ty, name) = match arg.split_once('/') {
        None => (None, arg),
        Some((t, n)) => (Some(t), n),
    };
    if name.is_empty() {
        return Err(Failure::usage(format!("missing name in {arg:?}"))
            .hint("use NAME, sts/NAME or ds/NAME"));
    }
    if name.contains('/') {
        return Err(Failure::usage(format!("too many '/' in {arg:?}"))
            .hint("use NAME, sts/NAME or ds/NAME"));
    }
    if !is_dns_subdomain(name) {
        let lower = name.to_ascii_lowercase();
        let hint = if is_dns_subdomain(&lower) {
            format!("Kubernetes names are lowercase: did you mean {lower:?}?")
        } else {
            "a name starts and ends with a letter or digit, at most 253 characters".to_string()
        };
        return Err(Failure::usage(format!(
            "invalid name {name:?}: names are lowercase letters, digits, '-' and '.'"
        ))
        .hint(hint));
    }
    let kind = match ty.map(str::to_ascii_lowercase).as_deref() {
        None => Kind::StatefulSet,
        Some("sts" | "statefulset" | "statefulsets" | "statefulset.apps" | "statefulsets.apps") => {
            Kind::StatefulSet
        }
        Some("ds" | "daemonset" | "daemonsets" | "daemonset.apps" | "daemonsets.apps") => {
            Kind::DaemonSet
        }
        Some(other) => {
            return Err(Failure::usage(format!(
                "unsupported resource type {other:?}: kubectl sts works on statefulsets (sts) and daemonsets (ds)"
            ))
            .hint(format!("use sts/{name} or ds/{name}")));
        }
    };
    Ok(Target {
        kind,
        name: name.to_string(),
    })
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kubectl_spellings() {
        for (arg, kind) in [
            ("web", Kind::StatefulSet),
            ("sts/web", Kind::StatefulSet),
            ("statefulset/web", Kind::StatefulSet),
            ("StatefulSets.apps/web", Kind::StatefulSet),
            ("ds/web", Kind::DaemonSet),
            ("daemonset/web", Kind::DaemonSet),
            ("daemonsets.apps/web", Kind::DaemonSet),
        ] {
            assert_eq!(
                parse(arg).ok(),
                Some(Target {
                    kind,
                    name: "web".into()
                }),
                "{arg}"
            );
        }
    }

    #[test]
    fn rejects_other_types_and_bad_names() {
        let e = parse("deploy/web").err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some(
                "unsupported resource type \"deploy\": kubectl sts works on statefulsets (sts) and daemonsets (ds)"
            )
        );
        assert!(parse("sts/").is_err());
        assert!(parse("a/b/c").is_err());
        assert!(parse("Web").is_err());
        assert!(parse("-web").is_err());
    }
}
