//! `kubectl sts status ds/NAME`.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use crate::analysis::daemonset::{self, DsViewOptions};
use crate::cli::{OutputFormat, StatusArgs};
use crate::cluster::Cluster;
use crate::cluster::fetch_ds::ds_snapshot;
use crate::error::Outcome;
use crate::render::{self, Printer};

/// Runs `status ds/NAME`.
pub async fn run(c: &Cluster, name: &str, args: &StatusArgs, printer: &Printer) -> Outcome {
    let opts = DsViewOptions { node: args.node.clone(), only_problems: args.only_problems };
    loop {
        let snap = ds_snapshot(c, name).await?;
        let rep = daemonset::analyze(&snap, &opts, Timestamp::now());
        if args.watch {
            printer.clear();
        }
        match args.output {
            OutputFormat::Json => printer.json(&rep),
            OutputFormat::Yaml => printer.yaml(&rep),
            OutputFormat::Table => printer.out(&render::daemonset::ds_table(&rep, false, &printer.style)),
            OutputFormat::Wide => printer.out(&render::daemonset::ds_table(&rep, true, &printer.style)),
        }
        for n in &rep.notes {
            printer.note(n);
        }
        if let Some(n) = &args.node
            && rep.nodes.is_empty()
            && !args.only_problems
        {
            printer.note(&format!("node {n} has no row: no such node, or no daemon pod on it"));
        }
        if !args.watch {
            let worst = rep.findings.iter().map(|f| f.severity).max();
            return Ok(super::status::fail_on_exit(args.fail_on, worst));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
