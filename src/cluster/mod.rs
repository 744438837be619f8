//! The only module that talks to the API server.
//!
//! Connection set-up follows kubectl: `--kubeconfig`, else `$KUBECONFIG`
//! (several paths merged), else `~/.kube/config`, else the in-cluster
//! service account; `--context`, `--cluster` and `--user` pick entries; the
//! namespace is `-n`, else the context's, else `default`.

pub mod access;
pub mod canary;
pub mod error;
pub mod fetch;
pub mod fetch_ds;
pub mod prune;
pub mod watch;

use std::time::Duration;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cli::GlobalArgs;
use crate::error::Failure;

pub use error::classify;

/// The user agent on every request (visible in the API server's audit log).
pub const USER_AGENT: &str = concat!("kubectl-sts/", env!("CARGO_PKG_VERSION"));

/// A connected client plus the namespace to work in.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    pub namespace: String,
    pub server: String,
}

/// Parses kubectl's `--request-timeout` ("0", "30", "5s", "1m", "1h", "500ms").
pub fn parse_timeout(s: &str) -> Result<Option<Duration>, Failure> {
    let bad = || {
        Failure::usage(format!("invalid --request-timeout {s:?}"))
            .hint("use a duration such as 30s, 1m or 0 for no limit")
    };
    let d = crate::duration::parse(s).ok_or_else(bad)?;
    Ok((!d.is_zero()).then_some(d))
}

/// Connects as kubectl would with the same flags.
pub async fn connect(g: &GlobalArgs) -> Result<Cluster, Failure> {
    let timeout = match &g.request_timeout {
        Some(t) => parse_timeout(t)?,
        None => None,
    };
    let opts = KubeConfigOptions {
        context: g.context.clone(),
        cluster: g.cluster.clone(),
        user: g.user.clone(),
    };
    let kubeconfig = match &g.kubeconfig {
        Some(path) => {
            if !path.exists() {
                return Err(Failure::cluster(format!(
                    "kubeconfig {} does not exist",
                    path.display()
                ))
                .hint("check the --kubeconfig path"));
            }
            Some(read_kubeconfig(path)?)
        }
        None => match env_kubeconfig()? {
            Some(kc) => Some(kc),
            None => default_kubeconfig()?,
        },
    };
    let mut config = match kubeconfig {
        Some(kc) => {
            if let Some(ctx) = &g.context
                && !kc.contexts.iter().any(|c| &c.name == ctx)
            {
                return Err(Failure::cluster(format!(
                    "context {ctx:?} not found in the kubeconfig"
                ))
                .hint("list contexts with: kubectl config get-contexts"));
            }
            if let Some(cl) = &g.cluster
                && !kc.clusters.iter().any(|c| &c.name == cl)
            {
                return Err(Failure::cluster(format!(
                    "cluster {cl:?} not found in the kubeconfig"
                ))
                .hint("list clusters with: kubectl config get-clusters"));
            }
            if let Some(u) = &g.user
                && !kc.auth_infos.iter().any(|a| &a.name == u)
            {
                return Err(
                    Failure::cluster(format!("user {u:?} not found in the kubeconfig"))
                        .hint("list users with: kubectl config get-users"),
                );
            }
            kube::Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| {
                    Failure::cluster(format!("invalid kubeconfig: {}", error::chain(&e)))
                        .hint("check it with: kubectl config view")
                })?
        }
        None => kube::Config::incluster().map_err(|e| {
            Failure::cluster(format!(
                "no kubeconfig found and not running in a cluster: {}",
                error::chain(&e)
            ))
            .hint("set KUBECONFIG or pass --kubeconfig")
        })?,
    };
    if let Some(t) = timeout {
        config.connect_timeout = Some(t);
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
        config.reset_reader_on_write = true;
    } else if config.connect_timeout.is_none() {
        config.connect_timeout = Some(Duration::from_secs(10));
    }
    // Writes must never be retried blindly; reads retry in `fetch`.
    config.default_retry = false;
    if let Ok(v) = http::HeaderValue::from_str(USER_AGENT) {
        config.headers.push((http::header::USER_AGENT, v));
    }
    let namespace = g
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config)
        .map_err(|e| {
            Failure::cluster(format!("cannot build a client: {}", error::chain(&e)))
                .hint("check the kubeconfig's cluster entry (server URL and certificates): kubectl config view")
        })?;
    Ok(Cluster {
        client,
        namespace,
        server,
    })
}

fn read_kubeconfig(path: &std::path::Path) -> Result<Kubeconfig, Failure> {
    Kubeconfig::read_from(path).map_err(|e| {
        // YAML errors carry a multi-line source excerpt: keep the first part.
        let text = error::chain(&e);
        let text = text
            .split(" --> ")
            .next()
            .unwrap_or(&text)
            .trim()
            .to_string();
        Failure::cluster(format!("cannot read kubeconfig {}: {text}", path.display())).hint(
            "check that the file is a valid kubeconfig: kubectl config view --kubeconfig FILE",
        )
    })
}

/// `$KUBECONFIG`, several paths merged; like kubectl, paths that do not
/// exist are skipped.
fn env_kubeconfig() -> Result<Option<Kubeconfig>, Failure> {
    let Some(value) = std::env::var_os("KUBECONFIG") else {
        return Ok(None);
    };
    let mut merged: Option<Kubeconfig> = None;
    for path in std::env::split_paths(&value).filter(|p| !p.as_os_str().is_empty() && p.exists()) {
        let kc = read_kubeconfig(&path)?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m.merge(kc).map_err(|e| {
                Failure::cluster(format!(
                    "cannot merge the kubeconfigs in $KUBECONFIG: {}",
                    error::chain(&e)
                ))
                .hint("check each file with: kubectl config view --kubeconfig FILE")
            })?,
        });
    }
    Ok(merged)
}

fn default_kubeconfig() -> Result<Option<Kubeconfig>, Failure> {
    let Some(home) = std::env::var_os("HOME") else {
        return Ok(None);
    };
    let path = std::path::PathBuf::from(home).join(".kube").join("config");
    if !path.exists() {
        return Ok(None);
    }
    read_kubeconfig(&path).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_like_kubectl() {
        assert_eq!(parse_timeout("0").ok(), Some(None));
        assert_eq!(
            parse_timeout("30").ok(),
            Some(Some(Duration::from_secs(30)))
        );
        assert_eq!(parse_timeout("5s").ok(), Some(Some(Duration::from_secs(5))));
        assert_eq!(
            parse_timeout("2m").ok(),
            Some(Some(Duration::from_secs(120)))
        );
        assert_eq!(
            parse_timeout("500ms").ok(),
            Some(Some(Duration::from_millis(500)))
        );
        assert!(parse_timeout("soon").is_err());
        assert!(parse_timeout("5x").is_err());
        assert!(parse_timeout("-1s").is_err());
    }
}
