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

enum Wait {
    Complete(Instant),
    Gate(String),
    Paused(String),
    TimedOut(String),
    Interrupted,
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
            if st.phase == "aborting" {
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

/// Checks, shows the plan, confirms and sends the start patch. `None` when
/// it was a dry run.
async fn start(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    specs: &[plan::StepSpec],
    template_patch: Value,
    images: &[(String, String)],
    args: &CanaryArgs,
) -> Result<Option<CanaryState>, Failure> {
    let pods = api::pods(&ctx.c, &sts).await?;
    let hpa = api::hpa_for(&ctx.c, &ctx.name).await?;
    let (from, floor) = plan::check_startable(&sts, &pods, hpa.as_deref(), args.allow_autoscaler)
        .map_err(|r| Failure::refused(r.reason).hint(r.fix))?;
    let containers: Vec<String> = images.iter().map(|(c, _)| c.clone()).collect();
    let owners = plan::foreign_owners(&sts, &containers);
    if !owners.is_empty() && !args.force_conflicts {
        return Err(Failure::refused(format!(
            "another field manager owns fields the canary changes: {}",
            owners.join("; ")
        ))
        .hint(
            "it may revert the canary on its next apply; pass --force-conflicts to proceed anyway",
        ));
    }
    let rv = sts.metadata.resource_version.clone().unwrap_or_default();
    // A change that leaves the template as it is would hold the set at a
    // partition with nothing to roll out: find out before the first write.
    let unchanged = match args.dry_run.dry_run {
        Some(DryRun::Client) => args.patch_file.is_none() && plan::images_unchanged(&sts, images),
        _ => {
            let probe = plan::template_probe(&rv, &template_patch);
            let after = api::patch_sts(&ctx.c, &ctx.name, &probe, true).await?;
            after.spec.map(|s| s.template) == sts.spec.as_ref().map(|s| s.template.clone())
        }
    };
    if unchanged {
        return Err(Failure::usage(format!(
            "the change leaves the pod template of statefulset {} as it is",
            ctx.name
        ))
        .hint("there is nothing to roll out; check the image tag or the patch file"));
    }
    let r = plan::replicas(&sts);
    let counts = plan::resolve_steps(specs, r - floor).map_err(Failure::usage)?;
    let rev = api::revision(&ctx.c, &from).await?.ok_or_else(|| {
        Failure::refused(format!(
            "ControllerRevision {from} (the current update revision) does not exist"
        ))
        .hint("wait for the controller and re-run")
    })?;
    let from_data = rev.data.map(|d| d.0).unwrap_or(Value::Null);
    if !from_data["spec"]["template"].is_object() {
        return Err(Failure::refused(format!(
            "ControllerRevision {from} holds no template: an abort could not restore it"
        ))
        .hint("wait for the controller to write a complete revision and re-run"));
    }
    let state = CanaryState {
        from: from.clone(),
        to: String::new(),
        floor,
        replicas: r,
        steps: specs.to_vec(),
        counts: counts.clone(),
        completed: 0,
        phase: "running".into(),
        from_data,
        started: Timestamp::now().to_string(),
    };
    let cause = cause_text(args);
    let patch = plan::start_patch(&rv, &template_patch, r, &state, &cause);
    let st = plan::start(&sts);
    ctx.rep.text(&format!("canary of statefulset {} from {from}: {} pods above the floor (partition {floor}), ordinals {}..{}", ctx.name, r - floor, st + floor, st + r - 1));
    for (i, n) in counts.iter().enumerate() {
        let p = state.partition_of(i);
        ctx.rep.text(&format!(
            "  step {}/{}: partition {p} → {n} pod(s) updated: ordinals {}..{}",
            i + 1,
            counts.len(),
            st + p,
            st + r - 1
        ));
    }
    ctx.rep.text(&format!(
        "soak {} per step, timeout {}",
        secs(ctx.soak),
        secs(ctx.timeout)
    ));
    if owners.is_empty() {
        // nothing
    } else {
        ctx.rep.text(&format!(
            "warning: {} (--force-conflicts given)",
            owners.join("; ")
        ));
    }
    match args.dry_run.dry_run {
        Some(DryRun::Client) => {
            ctx.rep.text("start patch (strategic merge, one request):");
            let shown = serde_json::to_string_pretty(&patch).unwrap_or_default();
            if ctx.rep.json {
                ctx.rep.event("plan", json!({"startPatch": patch, "counts": counts, "partitions": (0..counts.len()).map(|i| state.partition_of(i)).collect::<Vec<_>>()}), "");
            } else {
                ctx.rep.text(&shown);
                ctx.rep.text("dry run: nothing was changed");
            }
            return Ok(None);
        }
        Some(DryRun::Server) => {
            api::patch_sts(&ctx.c, &ctx.name, &patch, true).await?;
            ctx.rep.text(
                "server dry run: the API server accepted the start patch; nothing was changed",
            );
            return Ok(None);
        }
        None => {}
    }
    if !ctx
        .prompt
        .confirm(&format!("start the canary of statefulset {}?", ctx.name))?
    {
        return Err(Failure::refused("not confirmed; nothing was changed"));
    }
    fault("canary-before-start", &ctx.name).await;
    before_first_write();
    let new = api::patch_sts(&ctx.c, &ctx.name, &patch, false).await?;
    let _ = api::record_event(
        &ctx.c,
        &new,
        "CanaryStarted",
        &format!("canary started from {from}: {cause}"),
        false,
    )
    .await;
    ctx.rep.event(
        "started",
        json!({"from": from, "floor": floor, "replicas": r, "counts": counts}),
        &format!("started: template changed and held at partition {r}"),
    );
    Ok(Some(state))
}

/// Adopts a change already applied under a hold: writes the state only.
async fn adopt(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    specs: &[plan::StepSpec],
    args: &CanaryArgs,
) -> Result<Option<CanaryState>, Failure> {
    let pods = api::pods(&ctx.c, &sts).await?;
    let hpa = api::hpa_for(&ctx.c, &ctx.name).await?;
    if let Some(h) = hpa
        && !args.allow_autoscaler
    {
        return Err(Failure::refused(format!(
            "HorizontalPodAutoscaler {h} targets statefulset {}",
            ctx.name
        ))
        .hint("pause it, or pass --allow-autoscaler"));
    }
    let (from, to) = plan::check_adoptable(&sts, &pods, args.floor.unwrap_or(0))
        .map_err(|r| Failure::refused(r.reason).hint(r.fix))?;
    let r = plan::replicas(&sts);
    let counts = plan::resolve_steps(specs, r - args.floor.unwrap_or(0)).map_err(Failure::usage)?;
    let rev = api::revision(&ctx.c, &from).await?.ok_or_else(|| {
        Failure::refused(format!(
            "ControllerRevision {from} no longer exists: the canary could not be rolled back"
        ))
        .hint("raise revisionHistoryLimit, or roll out without adopting")
    })?;
    let state = CanaryState {
        from: from.clone(),
        to: to.clone(),
        floor: args.floor.unwrap_or(0),
        replicas: r,
        steps: specs.to_vec(),
        counts,
        completed: 0,
        phase: "running".into(),
        from_data: rev.data.map(|d| d.0).unwrap_or(Value::Null),
        started: Timestamp::now().to_string(),
    };
    let patch = plan::adopt_patch(
        &sts.metadata.resource_version.clone().unwrap_or_default(),
        &state,
    );
    ctx.rep.text(&format!(
        "adopting the held change of statefulset {}: {from} → {to}, floor {}, partition {}",
        ctx.name,
        args.floor.unwrap_or(0),
        plan::partition(&sts).unwrap_or(0)
    ));
    match args.dry_run.dry_run {
        Some(DryRun::Client) => {
            ctx.rep
                .text(&serde_json::to_string_pretty(&patch).unwrap_or_default());
            ctx.rep.text("dry run: nothing was changed");
            return Ok(None);
        }
        Some(DryRun::Server) => {
            api::patch_sts(&ctx.c, &ctx.name, &patch, true).await?;
            ctx.rep
                .text("server dry run: the API server accepted the patch; nothing was changed");
            return Ok(None);
        }
        None => {}
    }
    if !ctx.prompt.confirm(&format!(
        "adopt and continue the canary of statefulset {}?",
        ctx.name
    ))? {
        return Err(Failure::refused("not confirmed; nothing was changed"));
    }
    before_first_write();
    let new = api::patch_sts(&ctx.c, &ctx.name, &patch, false).await?;
    let _ = api::record_event(
        &ctx.c,
        &new,
        "CanaryStarted",
        &format!("canary adopted: {from} → {to}"),
        false,
    )
    .await;
    ctx.rep.event(
        "started",
        json!({"from": from, "to": to, "floor": args.floor.unwrap_or(0), "replicas": r, "adopted": true}),
        "adopted",
    );
    Ok(Some(state))
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

/// Runs the steps from wherever the state says, to done.
async fn drive(ctx: &mut Ctx<'_>, mut state: CanaryState, promote: bool) -> Outcome {
    // Resuming writes too: every wait and write from here is a safe point.
    before_first_write();
    let mut w = Watch::start(&ctx.c, &api::get_sts(&ctx.c, &ctx.name).await?).await;
    w.ready().await;
    // Learn the `to` revision once the controller has observed the change.
    if state.to.is_empty() {
        match wait_observed(ctx, &mut w).await? {
            Some(to) => {
                if to == state.from {
                    return Err(Failure::usage(format!(
                        "the change does not alter the pod template (still {to})"
                    ))
                    .hint(format!(
                        "abort it to restore the partition: kubectl sts canary {} --abort",
                        ctx.name
                    ))
                    .into());
                }
                state.to = to;
            }
            None => {
                let held = format!(
                    "the change is applied and held at partition {}; no pod is updated yet",
                    state.replicas
                );
                return Ok(interrupted(ctx, &held, false));
            }
        }
    }
    let began = Instant::now();
    let mut healthy_at: Option<Instant> = None;
    let mut i = 0;
    let mut advanced = false;
    let mut conflicts = 0;
    let mut min_gen = 0;
    loop {
        let sts = api::get_sts(&ctx.c, &ctx.name).await?;
        let r = plan::replicas(&sts);
        if r != state.replicas {
            let sr = sts.status.as_ref().map(|s| s.replicas).unwrap_or(0);
            if sr != r {
                ctx.rep.event("paused", json!({"reason": "scaling", "replicas": r}), &format!("paused: spec.replicas changed from {} to {r} and the scale is still in progress", state.replicas));
                return Ok(paused(ctx, "the StatefulSet is scaling"));
            }
            let old = state.replicas;
            state.replan(r).map_err(Failure::usage)?;
            ctx.rep.event(
                "replanned",
                json!({"replicas": r, "counts": state.counts}),
                &format!(
                    "re-planned for {r} replicas (was {old}): steps {:?}",
                    state.counts
                ),
            );
        }
        let current = plan::partition(&sts).unwrap_or(0);
        // Which step are we at? The first whose partition is ≤ the current one.
        if i == 0 {
            i = (0..state.counts.len())
                .find(|&k| state.partition_of(k) <= current)
                .unwrap_or(0);
            if current >= state.replicas {
                i = 0;
            }
        }
        if promote && state.partition_of(i) != state.floor {
            if !ctx.prompt.confirm(&format!(
                "promote: update every remaining pod of statefulset {} now?",
                ctx.name
            ))? {
                return Err(Failure::refused("not confirmed; nothing was changed").into());
            }
            i = state.counts.len() - 1;
        }
        let want = state.partition_of(i);
        let n = state.counts.get(i).copied().unwrap_or(0);
        if want != current {
            if i > 0
                && current < state.replicas
                && !promote
                && !ctx.auto
                && !(ctx.prompt == Prompt::AssumeYes && !advanced && !ctx.tty)
            {
                // A decision between steps.
                match decide(ctx, i, &state)? {
                    Decision::Continue => {}
                    Decision::Abort => {
                        return abort(ctx, sts, state, None, "aborted by the user between steps")
                            .await;
                    }
                    Decision::Pause => {
                        ctx.rep.event("paused", json!({"reason": "waiting for a decision", "completed": i, "of": state.counts.len()}), &format!("paused after step {i}/{}: waiting for a decision", state.counts.len()));
                        return Ok(paused(ctx, "waiting for a decision"));
                    }
                }
            } else if current >= state.replicas
                && i == 0
                && !ctx.auto
                && !promote
                && matches!(ctx.prompt, Prompt::Never)
            {
                return Err(Failure::refused(
                    "the canary needs --yes or --auto to take its first step without a terminal",
                )
                .into());
            }
            fault("canary-before-step", &ctx.name).await;
            if interrupt::requested() {
                let at = format!(
                    "step {}/{} not started; the partition is still {current}",
                    i + 1,
                    state.counts.len()
                );
                return Ok(interrupted(ctx, &at, false));
            }
            state.completed = i;
            let rv = sts.metadata.resource_version.clone().unwrap_or_default();
            let cause = format!(
                "kubectl sts canary {}: step {}/{} ({} pod(s) on {})",
                ctx.name,
                i + 1,
                state.counts.len(),
                n,
                state.to
            );
            let p = plan::step_patch(&rv, want, &state, &cause);
            let new = match api::patch_sts(&ctx.c, &ctx.name, &p, false).await {
                Ok(n) => n,
                // Someone wrote the StatefulSet meanwhile: re-read and re-plan.
                Err(f) if f.is_conflict() && conflicts < 3 => {
                    conflicts += 1;
                    continue;
                }
                Err(f) => return Err(f.into()),
            };
            advanced = true;
            min_gen = new.metadata.generation.unwrap_or(0);
            if let Some(h) = healthy_at.take() {
                ctx.latencies.push(h.elapsed());
            }
            let _ = api::record_event(&ctx.c, &new, "CanaryStepStarted", &cause, false).await;
        }
        let st = plan::start(&sts);
        ctx.rep.event(
            "step-started",
            json!({"step": i + 1, "of": state.counts.len(), "partition": want, "updated": n, "ordinals": (st + want..st + state.replicas).collect::<Vec<_>>()}),
            &format!("step {}/{}: partition {want}, {n} pod(s) on {}: ordinals {}..{}", i + 1, state.counts.len(), state.to, st + want, st + state.replicas - 1),
        );
        let t0 = Instant::now();
        match wait_step(ctx, &mut w, &state, want, min_gen).await? {
            Wait::Complete(at) => {
                healthy_at = Some(at);
                ctx.step_times.push(t0.elapsed());
                let cur = api::get_sts(&ctx.c, &ctx.name).await?;
                let msg = format!(
                    "step {}/{} complete: {n} pod(s) on {} Ready",
                    i + 1,
                    state.counts.len(),
                    state.to
                );
                let _ = api::record_event(&ctx.c, &cur, "CanaryStepComplete", &msg, false).await;
                ctx.rep.event("step-complete", json!({"step": i + 1, "of": state.counts.len(), "seconds": t0.elapsed().as_secs_f64()}), &msg);
                if i + 1 >= state.counts.len() {
                    return done(ctx, &state, began).await;
                }
                i += 1;
            }
            Wait::Gate(msg) => {
                ctx.rep.event(
                    "gate-failed",
                    json!({"reason": msg}),
                    &format!("health gate failed: {msg}"),
                );
                let cur = api::get_sts(&ctx.c, &ctx.name).await?;
                let _ = api::record_event(&ctx.c, &cur, "CanaryGateFailed", &msg, true).await;
                if !ctx.auto_abort {
                    return Err(Failure::new(Exit::Bad, format!("health gate failed: {msg}"))
                        .hint(format!("abort with: kubectl sts canary {} --abort (the canary state is kept)", ctx.name))
                        .into());
                }
                drop(w);
                return abort(ctx, cur, state, None, &format!("health gate: {msg}")).await;
            }
            Wait::Paused(msg) => {
                ctx.rep
                    .event("paused", json!({"reason": msg}), &format!("paused: {msg}"));
                return Ok(paused(ctx, &msg));
            }
            Wait::TimedOut(msg) => {
                return Err(Failure::new(Exit::Bad, msg)
                    .hint(format!(
                        "re-run to keep waiting, or abort with: kubectl sts canary {} --abort",
                        ctx.name
                    ))
                    .into());
            }
            Wait::Interrupted => {
                let at = format!(
                    "step {}/{} in progress at partition {want}: ordinals {}..{} get {}, the others keep {}",
                    i + 1,
                    state.counts.len(),
                    st + want,
                    st + state.replicas - 1,
                    state.to,
                    state.from
                );
                return Ok(interrupted(ctx, &at, false));
            }
        }
    }
}

enum Decision {
    Continue,
    Abort,
    Pause,
}

fn decide(ctx: &Ctx<'_>, i: usize, state: &CanaryState) -> Result<Decision, Failure> {
    if !ctx.tty {
        return Ok(Decision::Pause);
    }
    let items = [
        format!("continue with step {}/{}", i + 1, state.counts.len()),
        "abort (roll back)".to_string(),
        "pause and exit (re-run to resume)".to_string(),
    ];
    let pick = dialoguer::Select::new()
        .with_prompt(format!("step {}/{} complete", i, state.counts.len()))
        .items(&items)
        .default(0)
        .interact()
        .map_err(|e| Failure::refused(format!("no decision: {e}")))?;
    Ok(match pick {
        0 => Decision::Continue,
        1 => Decision::Abort,
        _ => Decision::Pause,
    })
}

fn paused(ctx: &Ctx<'_>, why: &str) -> Exit {
    ctx.rep.printer.note(&format!(
        "canary paused ({why}); resume with: kubectl sts canary {0} -n {1} [--auto], or roll back with: kubectl sts canary {0} -n {1} --abort",
        ctx.name, ctx.c.namespace
    ));
    Exit::Paused
}

fn abort_interrupted(ctx: &Ctx<'_>, state: &CanaryState) -> Exit {
    let at = format!(
        "the roll-back to {} is applied (partition {}); pods are still returning to it",
        state.from, state.floor
    );
    interrupted(ctx, &at, true)
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

async fn wait_observed(ctx: &Ctx<'_>, w: &mut Watch) -> Result<Option<String>, Failure> {
    let deadline = Instant::now() + ctx.timeout;
    loop {
        if let (Some(s), _) = w.snapshot() {
            let og = s
                .status
                .as_ref()
                .and_then(|st| st.observed_generation)
                .unwrap_or(0);
            if og >= s.metadata.generation.unwrap_or(0)
                && let Some(u) = plan::update_revision(&s)
            {
                return Ok(Some(u.to_string()));
            }
        }
        tokio::select! {
            _ = w.changed() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {
                return Err(Failure::new(Exit::Bad, "timed out waiting for the controller to observe the change"));
            }
            _ = signal() => return Ok(None),
        }
    }
}

/// Waits for a step by watch: complete, gate failure, pause, timeout or Ctrl-C.
async fn wait_step(
    ctx: &Ctx<'_>,
    w: &mut Watch,
    state: &CanaryState,
    partition: i32,
    min_gen: i64,
) -> Result<Wait, Failure> {
    let deadline = Instant::now() + ctx.timeout;
    let mut soak_since: Option<Instant> = None;
    let mut baseline: HashMap<String, i32> = HashMap::new();
    let mut seen_updated: HashSet<String> = HashSet::new();
    let mut seen_ready: HashSet<String> = HashSet::new();
    let progress = Progress::new(ctx.tty && !ctx.rep.json);
    loop {
        let (sts, pods) = w.snapshot();
        let Some(sts) = sts else {
            return Err(Failure::cluster(format!(
                "statefulset {} was deleted",
                ctx.name
            )));
        };
        let (mut verdict, views) =
            plan::evaluate_step(&sts, state, partition, &pods, Timestamp::now());
        // The store may not have seen our step patch yet.
        let og = sts
            .status
            .as_ref()
            .and_then(|s| s.observed_generation)
            .unwrap_or(0);
        if og < min_gen && verdict == StepVerdict::Healthy {
            verdict = StepVerdict::Waiting {
                updated: 0,
                ready: 0,
                want: 0,
            };
        }
        let mut restarted = None;
        for v in views
            .iter()
            .filter(|v| v.revision == state.to && v.index >= partition)
        {
            if seen_updated.insert(v.uid.clone()) {
                ctx.rep.event(
                    "pod-updated",
                    json!({"pod": v.name, "revision": v.revision}),
                    &format!("  {} is on {}", v.name, v.revision),
                );
            }
            if v.ready && seen_ready.insert(v.uid.clone()) {
                ctx.rep.event(
                    "pod-ready",
                    json!({"pod": v.name, "revision": v.revision}),
                    &format!("  {} is Ready", v.name),
                );
            }
            let b = baseline.entry(v.uid.clone()).or_insert(v.restarts);
            if v.restarts > *b {
                restarted = Some(format!(
                    "pod {} on {} restarted ({} restarts)",
                    v.name, v.revision, v.restarts
                ));
            }
        }
        // The container's own reason (CrashLoopBackOff, …) is the more telling one.
        if let Some(m) = restarted
            && !matches!(verdict, StepVerdict::GateFailed(_))
        {
            return Ok(Wait::Gate(m));
        }
        let now = Instant::now();
        match verdict {
            StepVerdict::GateFailed(m) => return Ok(Wait::Gate(m)),
            StepVerdict::Paused(m) => return Ok(Wait::Paused(m)),
            StepVerdict::Healthy => {
                let s = *soak_since.get_or_insert(now);
                progress.set(&format!(
                    "soaking: {:.0}s of {}",
                    now.duration_since(s).as_secs_f64(),
                    secs(ctx.soak)
                ));
                if now.duration_since(s) >= ctx.soak {
                    return Ok(Wait::Complete(now));
                }
            }
            StepVerdict::Waiting {
                updated,
                ready,
                want,
            } => {
                progress.set(&format!(
                    "waiting: {updated}/{want} pod(s) updated, {ready} Ready"
                ));
                soak_since = None;
                if now >= deadline {
                    if updated > ready {
                        return Ok(Wait::Gate(format!(
                            "{} of {want} updated pod(s) not Ready within {}",
                            updated - ready,
                            secs(ctx.timeout)
                        )));
                    }
                    return Ok(Wait::TimedOut(format!(
                        "timed out after {}: {updated} of {want} pod(s) updated, {ready} Ready",
                        secs(ctx.timeout)
                    )));
                }
            }
        }
        let wake = match soak_since {
            Some(s) => (s + ctx.soak).min(deadline),
            None => deadline,
        };
        tokio::select! {
            _ = w.changed() => {}
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = signal() => return Ok(Wait::Interrupted),
        }
    }
}

async fn done(ctx: &mut Ctx<'_>, state: &CanaryState, began: Instant) -> Outcome {
    let sts = clear_state(ctx).await?;
    let current = sts
        .status
        .as_ref()
        .and_then(|s| s.current_revision.clone())
        .unwrap_or_default();
    let msg = format!(
        "canary done: every pod at or above partition {} is on {} and Ready",
        state.floor, state.to
    );
    let _ = api::record_event(&ctx.c, &sts, "CanaryDone", &msg, false).await;
    let lat: Vec<f64> = ctx
        .latencies
        .iter()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let steps: Vec<f64> = ctx.step_times.iter().map(|d| d.as_secs_f64()).collect();
    ctx.rep.event(
        "done",
        json!({"from": state.from, "to": state.to, "floor": state.floor, "currentRevision": current, "seconds": began.elapsed().as_secs_f64(), "stepSeconds": steps, "stepLatencyMs": lat}),
        &format!(
            "{msg}\n  steps took {}; total {:.1}s; step complete → next partition patch: {}\n  currentRevision: {current}{}",
            steps.iter().map(|s| format!("{s:.1}s")).collect::<Vec<_>>().join(", "),
            began.elapsed().as_secs_f64(),
            if lat.is_empty() { "n/a".to_string() } else { lat.iter().map(|l| format!("{l:.0}ms")).collect::<Vec<_>>().join(", ") },
            if state.floor > 0 { " (with a floor above 0 the controller keeps the older currentRevision)" } else { "" }
        ),
    );
    Ok(Exit::Ok)
}

/// B10 abort: revert template + partition = floor in one guarded patch, wait
/// for the controller, then delete stuck pods highest first until every
/// index ≥ floor is on `from` and Ready.
async fn abort(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    state: CanaryState,
    dry_run: Option<DryRun>,
    why: &str,
) -> Outcome {
    let rv = sts.metadata.resource_version.clone().unwrap_or_default();
    let cause = format!("kubectl sts canary {} --abort: {why}", ctx.name);
    let patch = plan::abort_patch(&rv, &state, &cause);
    match dry_run {
        Some(DryRun::Client) => {
            ctx.rep.text(&format!(
                "abort patch (strategic merge; restores {} and partition {}):",
                state.from, state.floor
            ));
            ctx.rep
                .text(&serde_json::to_string_pretty(&patch).unwrap_or_default());
            ctx.rep.text("then: delete, highest ordinal first, each pod at or above the floor that is not Ready and not on the restored revision");
            ctx.rep.text("dry run: nothing was changed");
            return Ok(Exit::Ok);
        }
        Some(DryRun::Server) => {
            api::patch_sts(&ctx.c, &ctx.name, &patch, true).await?;
            ctx.rep.text(
                "server dry run: the API server accepted the abort patch; nothing was changed",
            );
            return Ok(Exit::Ok);
        }
        None => {}
    }
    if state.phase != "aborting"
        && why.starts_with("aborted by the user")
        && !ctx.prompt.confirm(&format!(
            "abort the canary of statefulset {} and roll back to {}?",
            ctx.name, state.from
        ))?
    {
        return Err(Failure::refused("not confirmed; nothing was changed").into());
    }
    before_first_write();
    // The controller's status writes move resourceVersion all the time during
    // a rollout: on a conflict, re-read and re-send the same abort (its content
    // comes from the saved state alone) while the state is still this canary's.
    let mut patch = patch;
    let mut conflicts = 0;
    let new = loop {
        match api::patch_sts(&ctx.c, &ctx.name, &patch, false).await {
            Ok(n) => break n,
            Err(f) if f.is_conflict() && conflicts < 5 => {
                conflicts += 1;
                let fresh = api::get_sts(&ctx.c, &ctx.name).await?;
                match CanaryState::read(&fresh) {
                    Some(Ok(now)) if now.from == state.from && now.to == state.to => {}
                    _ => {
                        return Err(Failure::new(Exit::Bad, "abort stopped: the canary state on the StatefulSet changed while aborting")
                            .hint("inspect it with: kubectl sts status")
                            .into());
                    }
                }
                let rv = fresh.metadata.resource_version.clone().unwrap_or_default();
                patch = plan::abort_patch(&rv, &state, &cause);
            }
            Err(f) => return Err(f.into()),
        }
    };
    let min_gen = new.metadata.generation.unwrap_or(0);
    let _ = api::record_event(
        &ctx.c,
        &new,
        "CanaryAborted",
        &format!("rolling back to {}: {why}", state.from),
        true,
    )
    .await;
    ctx.rep.event(
        "aborting",
        json!({"from": state.from, "floor": state.floor, "reason": why}),
        &format!(
            "aborting ({why}): template restored to {}, partition {}",
            state.from, state.floor
        ),
    );
    fault("canary-abort-applied", &ctx.name).await;
    let mut w = Watch::start(&ctx.c, &new).await;
    w.ready().await;
    let deadline = Instant::now() + ctx.timeout;
    let mut deleted: HashSet<String> = HashSet::new();
    loop {
        if interrupt::requested() {
            return Ok(abort_interrupted(ctx, &state));
        }
        let (s, pods) = w.snapshot();
        let Some(s) = s else {
            return Err(Failure::cluster(format!("statefulset {} was deleted", ctx.name)).into());
        };
        match plan::evaluate_abort(&s, &state, min_gen, &pods) {
            AbortVerdict::Done => break,
            AbortVerdict::Foreign(m) => {
                return Err(Failure::new(Exit::Bad, format!("abort stopped: {m}"))
                    .hint("inspect it with: kubectl sts status; the canary state is kept")
                    .into());
            }
            AbortVerdict::Delete(list) => {
                // Re-read the StatefulSet before deleting (someone may have changed it).
                let fresh = api::get_sts(&ctx.c, &ctx.name).await?;
                if let AbortVerdict::Foreign(m) =
                    plan::evaluate_abort(&fresh, &state, min_gen, &pods)
                {
                    return Err(Failure::new(Exit::Bad, format!("abort stopped: {m}")).into());
                }
                for (pod, uid, prv) in list {
                    if api::delete_pod(&ctx.c, &pod, &uid, &prv).await?
                        && deleted.insert(uid.clone())
                    {
                        ctx.rep.event(
                            "pod-deleted",
                            json!({"pod": pod, "uid": uid}),
                            &format!(
                                "  deleted {pod}: stuck on the canary's revision and not Ready"
                            ),
                        );
                    }
                }
            }
            AbortVerdict::WaitObserved | AbortVerdict::Waiting { .. } => {}
        }
        tokio::select! {
            _ = w.changed() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {
                return Err(Failure::new(Exit::Bad, format!("abort timed out after {}: not every pod is back on {} and Ready", secs(ctx.timeout), state.from))
                    .hint(format!("re-run to keep going: kubectl sts canary {} --abort", ctx.name)).into());
            }
            _ = signal() => return Ok(abort_interrupted(ctx, &state)),
        }
    }
    drop(w);
    clear_state(ctx).await?;
    ctx.rep.event(
        "aborted",
        json!({"from": state.from, "to": state.to, "reason": why, "deleted": deleted.len()}),
        &format!(
            "aborted: every pod at or above partition {} is back on {} and Ready",
            state.floor, state.from
        ),
    );
    Ok(Exit::Bad)
}

/// Removes the canary state annotation (guarded; re-read and retried on
/// conflicts, which the controller's status writes cause during rollouts).
async fn clear_state(ctx: &mut Ctx<'_>) -> Result<StatefulSet, Failure> {
    for _ in 0..6 {
        let cur = api::get_sts(&ctx.c, &ctx.name).await?;
        let rv = cur.metadata.resource_version.clone().unwrap_or_default();
        match api::patch_sts(&ctx.c, &ctx.name, &plan::clear_patch(&rv), false).await {
            Ok(s) => return Ok(s),
            Err(f) if f.is_conflict() => continue,
            Err(f) => return Err(f),
        }
    }
    Err(Failure::cluster(format!(
        "could not clear the canary state of statefulset {}: it kept changing",
        ctx.name
    ))
    .hint("re-run the same command to finish"))
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}
