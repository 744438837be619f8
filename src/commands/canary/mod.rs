//! `kubectl sts canary NAME`: a partitioned canary rollout, step by step
//! (controller-semantics B10). Start, resume, promote or abort.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::cli::{DryRun, DryRunArg, GlobalArgs};
use crate::cluster::canary::{self as api, Watch};
use crate::cluster::{self, Cluster, access};
use crate::commands::confirm::Prompt;
use crate::commands::fault::fault;
use crate::commands::interrupt;
use crate::error::{Exit, Failure, Outcome};
use crate::ops::canary::{self as plan, AbortVerdict, CanaryState, StepVerdict};
use crate::render::Printer;
use crate::render::canary::{Progress, Reporter};
use crate::target::{self, Kind};

mod abort;
mod drive;
mod start;

use abort::abort;
use drive::drive;
use start::{adopt, start};

/// `-o` of canary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum CanaryOutput {
    /// Human-readable lines
    #[default]
    Text,
    /// One JSON event per line
    Json,
}

/// `kubectl sts canary`.
#[derive(Debug, Args)]
pub struct CanaryArgs {
    /// NAME, sts/NAME or statefulset/NAME
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Change a container's image, CONTAINER=IMAGE (repeatable), like kubectl set image
    #[arg(long, value_name = "CONTAINER=IMAGE")]
    pub image: Vec<String>,

    /// A strategic-merge patch of the pod template (YAML or JSON)
    #[arg(long, value_name = "FILE")]
    pub patch_file: Option<PathBuf>,

    /// Steps as pod counts or percentages of the pods above the floor, ending at 100%
    #[arg(long, default_value = plan::DEFAULT_STEPS, value_name = "LIST")]
    pub steps: String,

    /// How long every updated pod must stay Ready, without restarts, before a step counts as done
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub soak: String,

    /// How long an updated pod may take to become Ready (and an abort to finish)
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub timeout: String,

    /// Continue between steps without asking (implies --yes)
    #[arg(long)]
    pub auto: bool,

    /// Start, promote or abort without a confirmation prompt
    #[arg(short = 'y', long, conflicts_with = "dry_run")]
    pub yes: bool,

    /// Roll back to the revision the canary started from, and unstick pods
    #[arg(long, conflicts_with_all = ["promote", "image", "patch_file"])]
    pub abort: bool,

    /// Finish the remaining steps at once
    #[arg(long)]
    pub promote: bool,

    /// When the health gate fails, stop (exit 1) instead of aborting
    #[arg(long)]
    pub no_auto_abort: bool,

    /// Adopt a change already applied and held by a partition (no --image/--patch-file)
    #[arg(long, conflicts_with_all = ["image", "patch_file", "abort"])]
    pub adopt: bool,

    /// With --adopt: the partition the user had before the held change (pods below it are never touched)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    pub floor: Option<i32>,

    /// Start even though a HorizontalPodAutoscaler targets the StatefulSet
    #[arg(long)]
    pub allow_autoscaler: bool,

    /// Proceed although another field manager (server-side apply) owns the changed fields
    #[arg(long)]
    pub force_conflicts: bool,

    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = CanaryOutput::Text, value_name = "FORMAT")]
    pub output: CanaryOutput,

    #[command(flatten)]
    pub dry_run: DryRunArg,
}

struct Ctx<'a> {
    c: Cluster,
    name: String,
    rep: Reporter<'a>,
    prompt: Prompt,
    soak: Duration,
    timeout: Duration,
    auto: bool,
    auto_abort: bool,
    tty: bool,
    latencies: Vec<Duration>,
    step_times: Vec<Duration>,
}

/// The shape of a `--patch-file`, for hints.
const PATCH_FILE_EXAMPLE: &str = "the file is a strategic-merge patch of the pod template, e.g. {\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.26\"}]}}";

/// Runs `canary`.
pub async fn run(g: &GlobalArgs, args: CanaryArgs, printer: &Printer) -> Outcome {
    // Everything the user typed is checked before talking to the cluster.
    let t = target::parse(&args.name)?;
    if t.kind != Kind::StatefulSet {
        return Err(Failure::usage("canary works on StatefulSets only")
            .hint("use NAME or sts/NAME")
            .into());
    }
    if args.floor.is_some() && !args.adopt {
        return Err(Failure::usage("--floor applies to --adopt only")
            .hint("a new canary's floor is the partition the StatefulSet already has")
            .into());
    }
    let specs = plan::parse_steps(&args.steps)
        .map_err(|e| Failure::usage(e).hint("e.g. --steps 1,25%,100%"))?;
    let soak = plan::parse_duration("--soak", &args.soak)
        .map_err(|e| Failure::usage(e).hint("use a duration such as 30s, 5m or 1h (0: no soak)"))?;
    let timeout = plan::parse_duration("--timeout", &args.timeout)
        .map_err(|e| Failure::usage(e).hint("use a duration such as 30s, 5m or 1h"))?;
    if timeout.is_zero() {
        return Err(Failure::usage("--timeout must be longer than 0")
            .hint("it is how long an updated pod may take to become Ready, e.g. --timeout 5m")
            .into());
    }
    let images = plan::parse_images(&args.image)
        .map_err(|e| Failure::usage(e).hint("e.g. --image nginx=nginx:1.26"))?;
    let file_patch = match &args.patch_file {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Failure::usage(format!("cannot read --patch-file {}: {e}", p.display()))
                    .hint("check the path and that the file is readable")
            })?;
            Some(plan::parse_template_patch(&text).map_err(|e| {
                Failure::usage(format!("invalid --patch-file {}: {e}", p.display()))
                    .hint(PATCH_FILE_EXAMPLE)
            })?)
        }
    };
    interrupt::install();
    let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let c = cluster::connect(g).await?;
    let mut ctx = Ctx {
        c,
        name: t.name.clone(),
        rep: Reporter {
            printer,
            json: args.output == CanaryOutput::Json,
        },
        prompt: if args.auto {
            Prompt::AssumeYes
        } else {
            Prompt::detect(args.yes)
        },
        soak,
        timeout,
        auto: args.auto,
        auto_abort: !args.no_auto_abort,
        tty,
        latencies: Vec::new(),
        step_times: Vec::new(),
    };
    let sts = api::get_sts(&ctx.c, &ctx.name).await?;
    if args.dry_run.dry_run != Some(DryRun::Client) {
        // Every canary run may patch the StatefulSet and, when it aborts,
        // delete stuck pods: check both rights before any change.
        let needs = [
            access::Need {
                verb: "patch",
                group: "apps",
                resource: "statefulsets",
            },
            access::Need {
                verb: "delete",
                group: "",
                resource: "pods",
            },
        ];
        access::require(&ctx.c, &needs, &ctx.c.namespace.clone()).await?;
    }
    let existing = CanaryState::read(&sts).transpose().map_err(|e| {
        Failure::refused(e).hint(format!(
            "remove it with: kubectl annotate sts {} {}-",
            ctx.name,
            plan::STATE_ANNOTATION
        ))
    })?;
    let change = !images.is_empty() || file_patch.is_some();

    if args.abort {
        let Some(state) = existing else {
            return Err(Failure::refused(format!("no canary in progress on statefulset {}", ctx.name))
                .hint("there is nothing to abort; to roll back a plain rollout use: kubectl rollout undo sts")
                .into());
        };
        return abort(
            &mut ctx,
            sts,
            state,
            args.dry_run.dry_run,
            "aborted by the user",
        )
        .await;
    }
    let state = match existing {
        Some(st) => {
            if change || args.adopt {
                return Err(Failure::refused(format!(
                    "a canary is already in progress on statefulset {} ({} → {})",
                    ctx.name,
                    st.from,
                    if st.to.is_empty() { "?" } else { &st.to }
                ))
                .hint(format!(
                    "resume it with: kubectl sts canary {}; or abort it with --abort",
                    ctx.name
                ))
                .into());
            }
            if st.phase == plan::CanaryPhase::Aborting {
                ctx.rep.text("an abort was interrupted; finishing it");
                return abort(&mut ctx, sts, st, args.dry_run.dry_run, "abort resumed").await;
            }
            ctx.rep.text(&format!(
                "resuming the canary of statefulset {} ({} → {})",
                ctx.name,
                st.from,
                if st.to.is_empty() { "?" } else { &st.to }
            ));
            st
        }
        None if args.adopt => match adopt(&mut ctx, sts, &specs, &args).await? {
            Some(st) => st,
            None => return Ok(Exit::Ok),
        },
        None => {
            if !change {
                return Err(Failure::usage("no change given and no canary in progress")
                    .hint(format!("start one with: kubectl sts canary {} --image CONTAINER=IMAGE (or --patch-file FILE), or adopt a held change with --adopt", ctx.name))
                    .into());
            }
            let template_patch = match file_patch {
                Some(mut p) => {
                    if !images.is_empty() {
                        let ip =
                            plan::image_template_patch(&sts, &images).map_err(container_hint)?;
                        merge_containers(&mut p, ip);
                    }
                    p
                }
                None => plan::image_template_patch(&sts, &images).map_err(container_hint)?,
            };
            match start(&mut ctx, sts, &specs, template_patch, &images, &args).await? {
                Some(st) => st,
                None => return Ok(Exit::Ok),
            }
        }
    };
    drive(&mut ctx, state, args.promote).await
}

/// A `--image` naming a container the template lacks.
fn container_hint(message: String) -> Failure {
    Failure::usage(message).hint("name one of those containers: --image CONTAINER=IMAGE")
}

fn merge_containers(p: &mut Value, ip: Value) {
    for key in ["containers", "initContainers"] {
        if let Some(new) = ip["spec"][key].as_array() {
            let spec = &mut p["spec"];
            if !spec.is_object() {
                *spec = json!({});
            }
            let list = &mut spec[key];
            if !list.is_array() {
                *list = json!([]);
            }
            if let Some(arr) = list.as_array_mut() {
                arr.extend(new.iter().cloned());
            }
        }
    }
}

fn cause_text(args: &CanaryArgs) -> String {
    let mut parts = vec![format!("kubectl sts canary {}", args.name)];
    for i in &args.image {
        parts.push(format!("--image {i}"));
    }
    if let Some(p) = &args.patch_file {
        parts.push(format!("--patch-file {}", p.display()));
    }
    parts.join(" ")
}

fn paused(ctx: &Ctx<'_>, why: &str) -> Exit {
    ctx.rep.printer.note(&format!(
        "canary paused ({why}); resume with: kubectl sts canary {0} -n {1} [--auto], or roll back with: kubectl sts canary {0} -n {1} --abort",
        ctx.name, ctx.c.namespace
    ));
    Exit::Paused
}

/// From the first write on, SIGINT/SIGTERM stop at the next safe point
/// instead of ending the process (before it, they end it: nothing changed).
fn before_first_write() {
    interrupt::arm();
}

/// Stops on SIGINT/SIGTERM and says where the object stands: `state`
/// describes what is applied (every write is one atomic request, and the
/// canary state on the StatefulSet says where to go on).
fn interrupted(ctx: &Ctx<'_>, state: &str, aborting: bool) -> Exit {
    if ctx.rep.json {
        ctx.rep.event(
            "interrupted",
            json!({"state": state, "aborting": aborting}),
            "",
        );
    }
    let next = if aborting {
        format!(
            "finish the roll-back with: kubectl sts canary {0} -n {1} --abort",
            ctx.name, ctx.c.namespace
        )
    } else {
        format!(
            "resume with: kubectl sts canary {0} -n {1}, or roll back with: kubectl sts canary {0} -n {1} --abort",
            ctx.name, ctx.c.namespace
        )
    };
    ctx.rep.printer.note(&format!(
        "interrupted; the StatefulSet is left consistent: {state}. {next}"
    ));
    Exit::Interrupted
}

async fn signal() {
    interrupt::wait().await;
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}
