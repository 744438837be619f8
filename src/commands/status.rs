//! `kubectl sts status [TYPE/]NAME`.

use k8s_openapi::jiff::Timestamp;

use crate::analysis::finding::Severity;
use crate::analysis::{fleet, statefulset};
use crate::cli::{FailOn, GlobalArgs, OutputFormat, StatusArgs};
use crate::cluster::{self, fetch};
use crate::error::{Exit, Failure, Outcome};
use crate::render::{self, Printer};
use crate::target::{self, Kind};

/// Exit code for `--fail-on` given the worst severity found.
pub fn fail_on_exit(fail_on: Option<FailOn>, worst: Option<Severity>) -> Exit {
    match (fail_on, worst) {
        (Some(FailOn::Warning), Some(s)) if s >= Severity::Warning => Exit::Bad,
        (Some(FailOn::Error), Some(Severity::Error)) => Exit::Bad,
        _ => Exit::Ok,
    }
}

/// Runs `status`.
pub async fn run(g: &GlobalArgs, args: StatusArgs, printer: &Printer) -> Outcome {
    let target = args.target.as_deref().map(target::parse).transpose()?;
    if target.is_some() && args.all_namespaces {
        return Err(Failure::usage("-A/--all-namespaces cannot be used with a NAME")
            .hint("drop -A, or pick the namespace with -n")
            .into());
    }
    let c = cluster::connect(g).await?;
    match target {
        None => {
            let (sets, daemons) = fetch::fleet(&c, args.all_namespaces).await?;
            let f = fleet::fleet(&sets, &daemons);
            match args.output {
                OutputFormat::Json => printer.json(&f),
                OutputFormat::Yaml => printer.yaml(&f),
                OutputFormat::Table | OutputFormat::Wide => {
                    printer.out(&render::fleet::fleet_table(&f, args.all_namespaces, &printer.style))
                }
            }
            let worst = f.items.iter().map(|r| match r.verdict {
                "Degraded" => Severity::Error,
                "Progressing" => Severity::Warning,
                _ => Severity::Info,
            }).max();
            Ok(fail_on_exit(args.fail_on, worst))
        }
        Some(t) if t.kind == Kind::StatefulSet => {
            let snap = fetch::sts_snapshot(&c, &t.name).await?;
            let opts = statefulset::ViewOptions { cluster_domain: args.cluster_domain.clone() };
            let rep = statefulset::analyze(&snap, &opts, Timestamp::now());
            match args.output {
                OutputFormat::Json => printer.json(&rep),
                OutputFormat::Yaml => printer.yaml(&rep),
                OutputFormat::Table => printer.out(&render::statefulset::sts_table(&rep, false, &printer.style)),
                OutputFormat::Wide => printer.out(&render::statefulset::sts_table(&rep, true, &printer.style)),
            }
            let worst = rep.findings.iter().map(|f| f.severity).max();
            Ok(fail_on_exit(args.fail_on, worst))
        }
        Some(t) => super::status_ds::run(&c, &t.name, &args, printer).await,
    }
}
