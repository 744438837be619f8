//! Claim names: `<template>-<statefulset>-<ordinal>`, matched against the
//! real template and StatefulSet names (never by splitting on dashes).
//! A name can fit two StatefulSets (`a` with template `b-c`, and `c-a` with
//! template `b`, both own `b-c-a-0`).

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;

use super::{live_range, template_names};
use crate::model::StsSnapshot;

/// If `claim` is `<template>-<sts>-<ordinal>` for one of `templates`,
/// returns the template and ordinal.
pub fn match_claim<'t>(claim: &str, sts: &str, templates: &'t [String]) -> Option<(&'t str, i32)> {
    templates.iter().find_map(|t| {
        let rest = claim.strip_prefix(t.as_str())?.strip_prefix('-')?;
        let ord = rest.strip_prefix(sts)?.strip_prefix('-')?;
        parse_ordinal(ord).map(|o| (t.as_str(), o))
    })
}

fn parse_ordinal(s: &str) -> Option<i32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// A claim in the namespace that belongs (or appears to belong) to the set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedClaim {
    pub name: String,
    /// The current template it matches; `None` for a stray claim whose
    /// template was removed or renamed.
    pub template: Option<String>,
    /// For stray claims: the name prefix (the old template name).
    pub template_guess: Option<String>,
    pub ordinal: Option<i32>,
    /// Other StatefulSets in the namespace whose templates this name also fits.
    pub also_fits: Vec<String>,
    /// Of those, the ones for which its ordinal is live.
    pub live_elsewhere: Vec<String>,
}

fn labels_cover(pvc: &PersistentVolumeClaim, sts: &StatefulSet) -> bool {
    let want = sts
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref());
    let have = pvc.metadata.labels.as_ref();
    match (want, have) {
        (Some(w), Some(h)) if !w.is_empty() => w.iter().all(|(k, v)| h.get(k) == Some(v)),
        _ => false,
    }
}

/// Other sets (by name) that `claim` fits, and those where it is live.
pub fn other_owners(claim: &str, me: &str, all: &[StatefulSet]) -> (Vec<String>, Vec<String>) {
    let mut fits = Vec::new();
    let mut live = Vec::new();
    for other in all {
        let Some(oname) = other.metadata.name.as_deref() else {
            continue;
        };
        if oname == me {
            continue;
        }
        let tpls = template_names(other);
        if let Some((_, ord)) = match_claim(claim, oname, &tpls) {
            fits.push(oname.to_string());
            if live_range(other).contains(&ord) {
                live.push(oname.to_string());
            }
        }
    }
    (fits, live)
}

/// The claims of the snapshot's set: exact template matches, plus strays
/// (selector labels, `-<sts>-<ordinal>` suffix, no current template).
pub fn claims_of(s: &StsSnapshot) -> Vec<OwnedClaim> {
    let Some(me) = s.sts.metadata.name.as_deref() else {
        return Vec::new();
    };
    let templates = template_names(&s.sts);
    let mut out = Vec::new();
    for pvc in &s.claims {
        let Some(name) = pvc.metadata.name.as_deref() else {
            continue;
        };
        let (also_fits, live_elsewhere) = other_owners(name, me, &s.all_sets);
        if let Some((t, ord)) = match_claim(name, me, &templates) {
            out.push(OwnedClaim {
                name: name.to_string(),
                template: Some(t.to_string()),
                template_guess: None,
                ordinal: Some(ord),
                also_fits,
                live_elsewhere,
            });
            continue;
        }
        if !also_fits.is_empty() || !labels_cover(pvc, &s.sts) {
            continue;
        }
        // `<prefix>-<me>-<digits>` with a prefix that is no current template.
        let Some((head, ord)) = name.rsplit_once('-') else {
            continue;
        };
        let Some(ord) = parse_ordinal(ord) else {
            continue;
        };
        let Some(prefix) = head.strip_suffix(me).and_then(|p| p.strip_suffix('-')) else {
            continue;
        };
        if prefix.is_empty() {
            continue;
        }
        out.push(OwnedClaim {
            name: name.to_string(),
            template: None,
            template_guess: Some(prefix.to_string()),
            ordinal: Some(ord),
            also_fits,
            live_elsewhere,
        });
    }
    out.sort_by(|a, b| a.ordinal.cmp(&b.ordinal).then(a.name.cmp(&b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts(name: &str, templates: &[&str], replicas: i32, start: Option<i32>) -> StatefulSet {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "ordinals": start.map(|s| serde_json::json!({"start": s})),
                "selector": {"matchLabels": {"app": name}},
                "serviceName": name,
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": []}},
                "volumeClaimTemplates": templates.iter().map(|t| serde_json::json!({"metadata": {"name": t}})).collect::<Vec<_>>()
            }
        }))
        .unwrap_or_default()
    }

    #[test]
    fn matches_exact_template_and_set_names() {
        let t = vec!["data".to_string(), "data-logs".to_string()];
        assert_eq!(match_claim("data-web-3", "web", &t), Some(("data", 3)));
        assert_eq!(
            match_claim("data-logs-web-0", "web", &t),
            Some(("data-logs", 0))
        );
        assert_eq!(match_claim("data-web-x", "web", &t), None);
        assert_eq!(match_claim("data-web-01", "web", &t), None);
        assert_eq!(match_claim("data-webby-1", "web", &t), None);
        assert_eq!(match_claim("other-web-1", "web", &t), None);
    }

    #[test]
    fn ambiguous_name_fits_two_sets() {
        let a = sts("a", &["b-c"], 1, None);
        let ca = sts("c-a", &["b"], 3, None);
        let all = vec![a.clone(), ca.clone()];
        // b-c-a-0: template b-c of a (ordinal 0) and template b of c-a (ordinal... "c-a-0" → 0).
        assert_eq!(
            match_claim("b-c-a-0", "a", &template_names(&a)),
            Some(("b-c", 0))
        );
        assert_eq!(
            match_claim("b-c-a-0", "c-a", &template_names(&ca)),
            Some(("b", 0))
        );
        let (fits, live) = other_owners("b-c-a-2", "a", &all);
        assert_eq!(fits, vec!["c-a".to_string()]);
        assert_eq!(live, vec!["c-a".to_string()]);
    }
}
