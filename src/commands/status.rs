//! `kubectl sts status [TYPE/]NAME`.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use crate::analysis::finding::Severity;
use crate::analysis::{fleet, statefulset};
use crate::cli::{FailOn, GlobalArgs, OutputFormat, StatusArgs};
use crate::cluster::access::{Need, can_i};
use crate::cluster::watch::{Allowed, Scope, Watch};
use crate::cluster::{self, Cluster, fetch};
use crate::error::{Exit, Failure, Outcome};
use crate::render::{self, Printer};
use crate::target::{self, Kind};

/// Hidden: stop `--watch` after this duration (e.g. `30s`), for scripts and tests.
pub const WATCH_FOR_ENV: &str = "KUBECTL_STS_WATCH_FOR";

/// Exit code for `--fail-on` given the worst severity found.
pub fn fail_on_exit(fail_on: Option<FailOn>, worst: Option<Severity>) -> Exit {
    match (fail_on, worst) {
        (Some(FailOn::Warning), Some(s)) if s >= Severity::Warning => Exit::Bad,
        (Some(FailOn::Error), Some(Severity::Error)) => Exit::Bad,
        _ => Exit::Ok,
    }
}

/// One rendered view: the text (or JSON/YAML) and its worst severity.
pub(crate) struct View {
    pub text: String,
    pub worst: Option<Severity>,
}

/// What `--watch` follows.
pub(crate) enum WatchTarget {
    Sts(String),
    /// A DaemonSet; `true` when nodes can be listed.
    Ds(String, bool),
    Fleet,
}

fn fleet_view(f: &fleet::Fleet, args: &StatusArgs, printer: &Printer, compact: bool) -> View {
    let text = render_doc(f, args.output, compact).unwrap_or_else(|| {
        render::fleet::fleet_table(
            f,
            args.all_namespaces,
            args.output == OutputFormat::Wide,
            &printer.style,
        )
    });
    let mut text = text;
    if !matches!(args.output, OutputFormat::Json | OutputFormat::Yaml) {
        for n in &f.notes {
            text.push_str(&format!("note: {n}\n"));
        }
    }
    let worst = f.items.iter().filter_map(|r| r.worst).max();
    View { text, worst }
}

fn sts_view(
    rep: &statefulset::StsReport,
    args: &StatusArgs,
    printer: &Printer,
    compact: bool,
) -> View {
    let text = render_doc(rep, args.output, compact).unwrap_or_else(|| {
        render::statefulset::sts_table(rep, args.output == OutputFormat::Wide, &printer.style)
    });
    View {
        text,
        worst: rep.findings.iter().map(|f| f.severity).max(),
    }
}

/// JSON (pretty, or one line in watch mode) or YAML; `None` for tables.
pub(crate) fn render_doc<T: serde::Serialize>(
    v: &T,
    o: OutputFormat,
    compact: bool,
) -> Option<String> {
    match o {
        OutputFormat::Json if compact => serde_json::to_string(v).ok(),
        OutputFormat::Json => serde_json::to_string_pretty(v).ok(),
        OutputFormat::Yaml => serde_saphyr::to_string(v)
            .ok()
            .map(|y| if compact { format!("---\n{y}") } else { y }),
        _ => None,
    }
}

/// A DNS domain: dot-separated labels of lowercase letters, digits and '-'.
fn is_domain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// The view options from the command line.
pub(crate) fn view_options(g: &GlobalArgs, args: &StatusArgs) -> statefulset::ViewOptions {
    statefulset::ViewOptions {
        cluster_domain: args.cluster_domain.clone(),
        context: g.context.clone(),
        kubeconfig: g.kubeconfig.as_ref().map(|k| k.display().to_string()),
    }
}

/// Runs `status`.
pub async fn run(g: &GlobalArgs, args: StatusArgs, printer: &Printer) -> Outcome {
    let target = args.target.as_deref().map(target::parse).transpose()?;
    if target.is_some() && args.all_namespaces {
        return Err(
            Failure::usage("-A/--all-namespaces cannot be used with a NAME")
                .hint("drop -A, or pick the namespace with -n")
                .into(),
        );
    }
    let on_daemonset = target.as_ref().is_some_and(|t| t.kind == Kind::DaemonSet);
    if !on_daemonset {
        let flag = if args.node.is_some() {
            Some("--node")
        } else if args.only_problems {
            Some("--only-problems")
        } else {
            None
        };
        if let Some(flag) = flag {
            return Err(
                Failure::usage(format!("{flag} applies to a DaemonSet only"))
                    .hint("name one: kubectl sts status ds/NAME")
                    .into(),
            );
        }
    }
    if !is_domain(&args.cluster_domain) {
        return Err(Failure::usage(format!(
            "invalid --cluster-domain {:?}",
            args.cluster_domain
        ))
        .hint("use the cluster's DNS domain, e.g. cluster.local")
        .into());
    }
    let watch_for = match std::env::var(WATCH_FOR_ENV) {
        Ok(v) if args.watch => Some(crate::duration::parse(&v).ok_or_else(|| {
            Failure::usage(format!("invalid {WATCH_FOR_ENV} {v:?}"))
                .hint("use a duration such as 30s or 2m, or unset it")
        })?),
        _ => None,
    };
    let c = cluster::connect(g).await?;
    match target {
        Some(t) if t.kind != Kind::StatefulSet => {
            super::status_ds::run(&c, g, &t.name, &args, printer, watch_for).await
        }
        Some(t) if args.watch => {
            watch(&c, g, WatchTarget::Sts(t.name), &args, printer, watch_for).await
        }
        None if args.watch => watch(&c, g, WatchTarget::Fleet, &args, printer, watch_for).await,
        None => {
            let inv = fetch::fleet(&c, args.all_namespaces).await?;
            let opts = view_options(g, &args);
            let v = fleet_view(
                &fleet::fleet(&inv, &opts, Timestamp::now()),
                &args,
                printer,
                false,
            );
            printer.out(&v.text);
            Ok(fail_on_exit(args.fail_on, v.worst))
        }
        Some(t) => {
            let snap =
                fetch::sts_snapshot_with(&c, &t.name, args.output != OutputFormat::Table).await?;
            let rep = statefulset::analyze(&snap, &view_options(g, &args), Timestamp::now());
            let v = sts_view(&rep, &args, printer, false);
            printer.out(&v.text);
            Ok(fail_on_exit(args.fail_on, v.worst))
        }
    }
}

/// `--watch`: one LIST + WATCH per kind, re-render on every change. On a
/// terminal the screen is redrawn; otherwise each new render follows the
/// previous one after a blank line (JSON: one document per line).
pub(crate) async fn watch(
    c: &Cluster,
    g: &GlobalArgs,
    target: WatchTarget,
    args: &StatusArgs,
    printer: &Printer,
    watch_for: Option<Duration>,
) -> Outcome {
    let (scope, all_ns) = match &target {
        WatchTarget::Sts(_) => (Scope::StatefulSet, false),
        WatchTarget::Ds(..) => (Scope::DaemonSet, false),
        WatchTarget::Fleet => (Scope::Fleet, args.all_namespaces),
    };
    // Rights are checked with SelfSubjectAccessReviews (no extra LISTs): a
    // kind this user may not watch is left out with a note.
    let ns = if all_ns { "" } else { c.namespace.as_str() };
    let may = |group: &'static str, resource: &'static str, ns: &str| {
        let ns = ns.to_string();
        async move {
            let need = Need {
                verb: "watch",
                group,
                resource,
            };
            can_i(c, need, &ns).await
        }
    };
    let allowed = Allowed {
        nodes: match &target {
            WatchTarget::Ds(_, nodes) => *nodes,
            WatchTarget::Fleet => may("", "nodes", "").await?,
            WatchTarget::Sts(_) => false,
        },
        hpas: scope != Scope::DaemonSet
            && may("autoscaling", "horizontalpodautoscalers", ns).await?,
        events: may("", "events", ns).await?,
    };
    let mut w = Watch::start(c, scope, all_ns, allowed);
    let deadline = async {
        match watch_for {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let opts = view_options(g, args);
    let compact = matches!(args.output, OutputFormat::Json | OutputFormat::Yaml);
    let mut last: Option<String> = None;
    let mut worst = None;
    let mut reported_error = false;
    loop {
        let change = tokio::select! {
            _ = &mut deadline => break,
            c = w.next(Duration::from_millis(200)) => c,
        };
        match change {
            None => break,
            Some(Err(e)) => {
                if !reported_error {
                    printer.note(&format!("watch interrupted, retrying: {e}"));
                    reported_error = true;
                }
                continue;
            }
            Some(Ok(())) => reported_error = false,
        }
        if !w.ready() {
            continue;
        }
        let view = match &target {
            WatchTarget::Sts(n) => {
                let snap = w.stores.sts_snapshot(c, n).await?;
                sts_view(
                    &statefulset::analyze(&snap, &opts, Timestamp::now()),
                    args,
                    printer,
                    compact,
                )
            }
            WatchTarget::Ds(n, _) => {
                let snap = w.stores.ds_snapshot(c, n).await?;
                super::status_ds::ds_view(&snap, g, args, printer, compact)
            }
            WatchTarget::Fleet => {
                let inv = w.stores.inventory();
                fleet_view(
                    &fleet::fleet(&inv, &opts, Timestamp::now()),
                    args,
                    printer,
                    compact,
                )
            }
        };
        if last.as_deref() == Some(view.text.as_str()) {
            continue;
        }
        if !compact {
            if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                printer.clear();
            } else if last.is_some() {
                printer.out("");
            }
        }
        printer.out(&view.text);
        worst = view.worst;
        last = Some(view.text);
    }
    Ok(fail_on_exit(args.fail_on, worst))
}
