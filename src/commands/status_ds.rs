//! `kubectl sts status ds/NAME`.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::status::{View, WatchTarget, fail_on_exit, render_doc};
use crate::analysis::daemonset::{self, DsViewOptions};
use crate::cli::{OutputFormat, StatusArgs};
use crate::cluster::Cluster;
use crate::cluster::fetch_ds::{can_list_nodes, ds_snapshot};
use crate::error::Outcome;
use crate::model::DsSnapshot;
use crate::render::{self, Printer};

/// Analyzes and renders one snapshot (`compact`: one JSON line, for watch).
pub(crate) fn ds_view(
    snap: &DsSnapshot,
    args: &StatusArgs,
    printer: &Printer,
    compact: bool,
) -> View {
    let opts = DsViewOptions {
        node: args.node.clone(),
        only_problems: args.only_problems,
    };
    let rep = daemonset::analyze(snap, &opts, Timestamp::now());
    let mut text = render_doc(&rep, args.output, compact).unwrap_or_else(|| {
        render::daemonset::ds_table(&rep, args.output == OutputFormat::Wide, &printer.style)
    });
    if !matches!(args.output, OutputFormat::Json | OutputFormat::Yaml) {
        for n in &rep.notes {
            text.push_str(&format!("\nnote: {n}"));
        }
        if let Some(n) = &args.node
            && rep.nodes.is_empty()
            && !args.only_problems
        {
            text.push_str(&format!(
                "\nnote: node {n} has no row: no such node, or no daemon pod on it"
            ));
        }
    }
    View {
        text,
        worst: rep.findings.iter().map(|f| f.severity).max(),
    }
}

/// Runs `status ds/NAME`; with `--watch`, one LIST + WATCH per kind.
pub async fn run(
    c: &Cluster,
    g: &crate::cli::GlobalArgs,
    name: &str,
    args: &StatusArgs,
    printer: &Printer,
    watch_for: Option<Duration>,
) -> Outcome {
    if args.watch {
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
    let view = ds_view(&snap, args, printer, false);
    printer.out(&view.text);
    Ok(fail_on_exit(args.fail_on, view.worst))
}
