//! `kubectl sts status ds/NAME`.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::status::{View, WatchTarget, fail_on_exit, render_doc};
use crate::analysis::daemonset::fix::quote;
use crate::analysis::daemonset::{self, DsViewOptions, node_known};
use crate::cli::{GlobalArgs, OutputFormat, StatusArgs};
use crate::cluster::Cluster;
use crate::cluster::fetch_ds::{can_list_nodes, ds_snapshot, node_exists};
use crate::error::{Failure, Outcome};
use crate::model::DsSnapshot;
use crate::render::{self, Printer};

/// Analyzes and renders one snapshot (`compact`: one JSON line, for
/// watch). The exit code's severity is the verdict's, taken over every
/// finding before `--node` and `--only-problems` filter what is shown.
pub(crate) fn ds_view(
    snap: &DsSnapshot,
    g: &crate::cli::GlobalArgs,
    args: &StatusArgs,
    printer: &Printer,
    compact: bool,
) -> View {
    let opts = DsViewOptions {
        node: args.node.clone(),
        only_problems: args.only_problems,
        context: g.context.clone(),
        kubeconfig: g.kubeconfig.as_ref().map(|k| k.display().to_string()),
    };
    let rep = daemonset::analyze(snap, &opts, Timestamp::now());
    let mut text = render_doc(&rep, args.output, compact).unwrap_or_else(|| {
        render::daemonset::ds_table(&rep, args.output == OutputFormat::Wide, &printer.style)
    });
    if !matches!(args.output, OutputFormat::Json | OutputFormat::Yaml)
        && let Some(n) = &args.node
        && node_known(snap, n).is_none()
    {
        text.push_str(&format!(
            "\nnote: nodes could not be read and no daemon pod is bound to {n}: whether node {n} exists was not checked"
        ));
    }
    View {
        text,
        worst: rep.verdict.worst,
    }
}

/// `nodes "X" not found`, as kubectl says it.
fn unknown_node(context: Option<&str>, node: &str) -> Failure {
    let ctx = context
        .map(|x| format!(" --context {}", quote(x)))
        .unwrap_or_default();
    Failure::cluster(format!("nodes {node:?} not found"))
        .hint(format!("list them with: kubectl get nodes{ctx}"))
}

/// Runs `status ds/NAME`; with `--watch`, one LIST + WATCH per kind.
pub async fn run(
    c: &Cluster,
    g: &GlobalArgs,
    name: &str,
    args: &StatusArgs,
    printer: &Printer,
    watch_for: Option<Duration>,
) -> Outcome {
    if args.watch {
        if let Some(n) = &args.node
            && node_exists(c, n).await? == Some(false)
        {
            return Err(unknown_node(g.context.as_deref(), n).into());
        }
        let nodes = can_list_nodes(c).await?;
        return super::status::watch(
            c,
            g,
            WatchTarget::Ds(name.to_string(), nodes),
            args,
            printer,
            watch_for,
        )
        .await;
    }
    let snap = ds_snapshot(c, name).await?;
    if let Some(n) = &args.node
        && node_known(&snap, n) == Some(false)
    {
        return Err(unknown_node(g.context.as_deref(), n).into());
    }
    let view = ds_view(&snap, g, args, printer, false);
    printer.out(&view.text);
    Ok(fail_on_exit(args.fail_on, view.worst))
}
