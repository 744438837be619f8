//! `kubectl sts prune-pvcs [NAME]`: plan → show → `--dry-run` stops →
//! confirm (TTY) or `--yes` → delete one claim at a time, each after a
//! final re-read and re-check, with uid + resourceVersion preconditions →
//! re-read and report loudly if the ordinal came back into range.

use k8s_openapi::jiff::Timestamp;

use crate::cli::{DryRun, GlobalArgs, PlanFormat, PruneArgs};
use crate::cluster::prune::{self as cp, Deleted};
use crate::cluster::{self, Cluster, access};
use crate::commands::confirm::{Prompt, prompt_failed};
use crate::commands::fault::fault;
use crate::commands::interrupt;
use crate::error::{Exit, Failure, Outcome};
use crate::ops::prune::{self, Document, Done, Entry, Fate, Inputs, Mode, Options, Verdict};
use crate::render::{self, Printer};
use crate::target::{self, Kind};

/// Parses `--older-than` ("90s", "30m", "12h", "7d", plain seconds).
pub fn parse_age(s: &str) -> Result<i64, Failure> {
    crate::duration::parse(s)
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .ok_or_else(|| {
            Failure::usage(format!("invalid --older-than {s:?}"))
                .hint("use a duration such as 30m, 12h or 7d")
        })
}

/// The reason of the claims a signal left untouched.
const NOT_ATTEMPTED: &str = "not deleted: interrupted";

/// Runs `prune-pvcs`.
pub async fn run(g: &GlobalArgs, args: PruneArgs, printer: &Printer) -> Outcome {
    if args.name.is_some() && args.all_namespaces {
        return Err(
            Failure::usage("-A/--all-namespaces cannot be used with a NAME")
                .hint("drop -A, or pick the namespace with -n")
                .into(),
        );
    }
    let target = args.name.as_deref().map(target::parse).transpose()?;
    if let Some(t) = &target
        && t.kind != Kind::StatefulSet
    {
        return Err(Failure::usage(
            "prune-pvcs works on StatefulSets only (DaemonSets have no claim templates)",
        )
        .hint("use NAME or sts/NAME")
        .into());
    }
    let name = target.map(|t| t.name);
    let older_than = args.older_than.as_deref().map(parse_age).transpose()?;
    let opts = Options {
        name: name.clone(),
        include_deleted: args.include_deleted,
        include_scaled_to_zero: args.include_scaled_to_zero,
        ignore_autoscaler: args.ignore_autoscaler,
        older_than,
    };
    interrupt::install();
    let c = cluster::connect(g).await?;
    let ns = (!args.all_namespaces).then(|| c.namespace.clone());
    let snap = cp::snapshot(&c, ns.as_deref(), args.selector.as_deref()).await?;
    if let Some(n) = &name
        && !args.include_deleted
        && !snap
            .sets
            .iter()
            .any(|s| s.metadata.name.as_deref() == Some(n.as_str()))
    {
        return Err(
            crate::cluster::fetch::missing(&c, "statefulset", "statefulsets", n)
                .await
                .into(),
        );
    }
    let inputs = Inputs {
        sets: &snap.sets,
        pods: &snap.pods,
        claims: &snap.claims,
        volumes: snap.volumes.as_deref(),
        hpas: &snap.hpas,
    };
    let plan = prune::plan(&inputs, &opts, Timestamp::now());
    let mode = match args.dry_run.dry_run {
        Some(DryRun::Client) => Mode::DryRun,
        Some(DryRun::Server) => Mode::ServerDryRun,
        None => Mode::Delete,
    };
    let mut doc = Document::new(plan, snap.notes.clone(), mode);
    let table = args.output == PlanFormat::Table;
    let emit = |doc: &Document| match args.output {
        PlanFormat::Json => printer.json(doc),
        PlanFormat::Yaml => printer.yaml(doc),
        PlanFormat::Table => {}
    };
    if table {
        printer.out(&render::prune::plan_text(
            &doc.plan,
            args.all_namespaces,
            mode,
            &printer.style,
        ));
    }
    for n in &doc.notes {
        printer.note(n);
    }
    let planned: Vec<Entry> = doc.plan.deletable().cloned().collect();
    if planned.is_empty() || mode == Mode::DryRun {
        emit(&doc);
        return Ok(Exit::Ok);
    }
    // Check the right to delete claims before asking or deleting anything.
    let mut namespaces: Vec<&str> = planned.iter().map(|e| e.namespace.as_str()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    for ns in namespaces {
        let need = access::Need {
            verb: "delete",
            group: "",
            resource: "persistentvolumeclaims",
        };
        if let Err(f) = access::require(&c, &[need], ns).await {
            emit(&doc);
            return Err(f.into());
        }
    }
    fault("after-plan", "").await;
    // --dry-run=server changes nothing: no confirmation needed.
    let prompt = if mode == Mode::ServerDryRun {
        Prompt::AssumeYes
    } else {
        Prompt::detect(args.yes)
    };
    let chosen = match choose(&planned, prompt) {
        Ok(c) => c,
        Err(f) => {
            emit(&doc);
            return Err(f.into());
        }
    };
    if chosen.is_empty() {
        emit(&doc);
        return Err(Failure::refused("not confirmed; nothing was changed").into());
    }
    let server_dry = mode == Mode::ServerDryRun;
    let mut done = Vec::new();
    // From here a signal stops the loop between two claims (each DELETE
    // is atomic); the report says which claims were deleted.
    interrupt::arm();
    for e in &chosen {
        let d = if interrupt::requested() {
            self::done(e, Fate::Skipped, NOT_ATTEMPTED)
        } else {
            delete_one(&c, e, &opts, server_dry).await
        };
        if table {
            printer.out(&render::prune::done_text(&d, mode, &printer.style));
        }
        done.push(d);
    }
    if table {
        printer.out(&render::prune::summary_text(
            &done,
            doc.plan.skipped.len(),
            planned.len() - chosen.len(),
            mode,
            &printer.style,
        ));
    }
    let bad = done.iter().any(Done::is_bad);
    let cut_short = done.iter().any(|d| d.reason == NOT_ATTEMPTED);
    doc.results = Some(done);
    emit(&doc);
    if cut_short {
        printer.note("interrupted: the claims listed as deleted are gone, the others are untouched; re-run to re-plan");
        return Ok(Exit::Interrupted);
    }
    Ok(if bad { Exit::Bad } else { Exit::Ok })
}

/// All claims with `--yes`; on a terminal, all or a MultiSelect pick;
/// without either, a refusal (exit 4).
fn choose(planned: &[Entry], prompt: Prompt) -> Result<Vec<Entry>, Failure> {
    match prompt {
        Prompt::AssumeYes => Ok(planned.to_vec()),
        Prompt::Never => Err(prompt
            .confirm(&match planned.len() {
                1 => "delete 1 PersistentVolumeClaim".to_string(),
                n => format!("delete {n} PersistentVolumeClaims"),
            })
            .err()
            .unwrap_or_else(|| Failure::refused("confirmation needed but there is no terminal"))),
        Prompt::Interactive => {
            let items = [
                match planned.len() {
                    1 => "Delete the claim".to_string(),
                    n => format!("Delete all {n} claims"),
                },
                "Pick the claims to delete".to_string(),
                "Cancel".to_string(),
            ];
            // Esc and q decline (interact_opt answers None).
            let pick = dialoguer::Select::new()
                .with_prompt("Delete these PersistentVolumeClaims?")
                .items(&items)
                .default(2)
                .interact_opt()
                .map_err(|e| prompt_failed(e, "no confirmation"))?;
            match pick {
                Some(0) => Ok(planned.to_vec()),
                Some(1) => {
                    let labels: Vec<String> = planned
                        .iter()
                        .map(|e| {
                            let data = if e.destroys_data {
                                " — deletes its data"
                            } else {
                                ""
                            };
                            format!(
                                "{}/{} ({}){data}",
                                e.namespace,
                                e.claim,
                                e.statefulsets.join(",")
                            )
                        })
                        .collect();
                    let idx = dialoguer::MultiSelect::new()
                        .with_prompt("Space to select, Enter to delete the selected claims")
                        .items(&labels)
                        .interact_opt()
                        .map_err(|e| prompt_failed(e, "no confirmation"))?
                        .unwrap_or_default();
                    Ok(idx
                        .into_iter()
                        .filter_map(|i| planned.get(i).cloned())
                        .collect())
                }
                _ => Ok(Vec::new()),
            }
        }
    }
}

fn done(e: &Entry, result: Fate, reason: impl Into<String>) -> Done {
    Done {
        namespace: e.namespace.clone(),
        claim: e.claim.clone(),
        result,
        reason: reason.into(),
        volume: e.volume.clone(),
        destroys_data: e.destroys_data,
        came_back_in_range: None,
        mounted_after: Vec::new(),
    }
}

/// Re-reads, re-checks every rule, deletes with preconditions, re-reads.
async fn delete_one(c: &Cluster, e: &Entry, opts: &Options, server_dry: bool) -> Done {
    fault("before-recheck", &e.claim).await;
    let fresh = match cp::recheck(c, &e.namespace, &e.claim).await {
        Ok(f) => f,
        Err(f) => return done(e, Fate::Failed, format!("re-check failed: {}", f.message)),
    };
    let Some(pvc) = fresh.claims.first() else {
        return done(e, Fate::Skipped, "changed: the claim no longer exists");
    };
    if pvc.metadata.uid.as_deref() != Some(e.uid.as_str()) {
        return done(
            e,
            Fate::Skipped,
            "changed: the claim was recreated (new uid)",
        );
    }
    if pvc.metadata.resource_version.as_deref() != Some(e.resource_version.as_str()) {
        return done(
            e,
            Fate::Skipped,
            "changed since the plan (resourceVersion differs); re-run to re-plan",
        );
    }
    let inputs = Inputs {
        sets: &fresh.sets,
        pods: &fresh.pods,
        claims: &fresh.claims,
        volumes: None,
        hpas: &fresh.hpas,
    };
    // The re-check keeps the plan's judgement of age and evidence kind.
    match prune::assess(pvc, &inputs, opts, Timestamp::now()) {
        Some(Verdict::Candidate(_)) => {}
        Some(Verdict::Skipped(now)) => {
            return done(e, Fate::Skipped, format!("changed: {}", now.reason));
        }
        None => {
            return done(
                e,
                Fate::Skipped,
                "changed: the claim is no longer left behind (its ordinal is live)",
            );
        }
    }
    fault("before-delete", &e.claim).await;
    let mut d = match cp::delete_claim(
        c,
        &e.namespace,
        &e.claim,
        &e.uid,
        &e.resource_version,
        server_dry,
    )
    .await
    {
        Ok(Deleted::Done) => done(e, Fate::Deleted, ""),
        Ok(Deleted::Changed(m)) => {
            return done(
                e,
                Fate::Skipped,
                format!("changed: precondition failed: {m}"),
            );
        }
        Ok(Deleted::Gone) => return done(e, Fate::Skipped, "changed: the claim no longer exists"),
        Err(f) => return done(e, Fate::Failed, f.message),
    };
    fault("after-delete", &e.claim).await;
    match cp::after_delete(c, &e.namespace).await {
        Ok((sets, pods)) => {
            d.came_back_in_range = prune::back_in_range(e, &sets);
            d.mounted_after = prune::mounted_by(e, &pods);
        }
        Err(f) => {
            d.came_back_in_range = Some(format!(
                "could not re-read after the delete ({}); check the StatefulSet",
                f.message
            ));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_than_durations() {
        assert_eq!(parse_age("90s").ok(), Some(90));
        assert_eq!(parse_age("30m").ok(), Some(1800));
        assert_eq!(parse_age("12h").ok(), Some(43200));
        assert_eq!(parse_age("7d").ok(), Some(604800));
        assert_eq!(parse_age("42").ok(), Some(42));
        assert!(parse_age("soon").is_err());
        assert!(parse_age("-1h").is_err());
        assert!(parse_age("").is_err());
        assert!(parse_age("99999999999999999d").is_err());
    }
}
