//! `kubectl sts canary NAME`: a partitioned canary rollout, step by step
//! (controller-semantics B10). Start, resume, promote, pause or abort.
//!
//! Only I/O lives here: reads, guarded writes, the watch, prompts and
//! output. Every decision is `ops::canary` (the planner, the step machine
//! and the ownership checks).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::cli::{CanaryArgs, CanaryOutput, DryRun, GlobalArgs};
use crate::cluster::canary::{self as api, Watch};
use crate::cluster::{self, Cluster, access};
use crate::commands::confirm::{self, Answer, Prompt};
use crate::commands::fault::fault;
use crate::commands::interrupt;
use crate::error::{Exit, Failure, Outcome};
use crate::ops::canary::machine::{self, Mode, PodLog};
use crate::ops::canary::ownership::{self, Lost};
use crate::ops::canary::summary;
use crate::ops::canary::{self as plan, AbortVerdict, CanaryState, Request, RequestAction};
use crate::render::Printer;
use crate::render::canary::{self as show, Reporter};
use crate::target::{self, Kind};

mod abort;
mod drive;
mod guard;
mod remote;
mod start;

use abort::{Why, abort};
use drive::drive;
use guard::{ask_watching, lost, outside_changes};
use start::{Started, adopt, start};

struct Ctx<'a> {
    c: Cluster,
    name: String,
    /// The StatefulSet's uid: a recreated one is not this canary's.
    uid: String,
    /// `NAME -n NS [--context C]`, for the commands in hints.
    target: String,
    rep: Reporter<'a>,
    prompt: Prompt,
    mode: Mode,
    soak: Duration,
    timeout: Duration,
    auto_abort: bool,
    show_patch: bool,
    /// Who runs this session (recorded with what it does).
    me: String,
    /// Requests that were pending when the session began: this run supersedes them.
    ignored: Vec<String>,
    /// The request this process made (`--promote` nobody answered yet).
    asked: Option<String>,
    log: PodLog,
    latencies: Vec<Duration>,
    step_times: Vec<Duration>,
}

impl Ctx<'_> {
    /// `kubectl sts canary NAME -n NS[ --context C]EXTRA`, a complete command.
    fn cmd(&self, extra: &str) -> String {
        format!("kubectl sts canary {}{extra}", self.target)
    }

    /// `kubectl sts status NAME -n NS[ --context C]`.
    fn status_cmd(&self) -> String {
        format!("kubectl sts status {}", self.target)
    }

    fn resume_or_abort(&self) -> String {
        format!(
            "resume with: {}, or roll back with: {}",
            self.cmd(""),
            self.cmd(" --abort")
        )
    }
}

/// The shape of a `--patch-file`, for hints.
const PATCH_FILE_EXAMPLE: &str = "the file is a strategic-merge patch of the pod template, e.g. {\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.26\"}]}}";

/// How long `--pause`/`--promote` wait for a running session to answer.
const ANSWER_WAIT: Duration = Duration::from_secs(5);

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
    let tty = confirm::is_tty();
    let c = cluster::connect(g).await?;
    let sts = api::get_sts(&c, &t.name).await?;
    let client_dry_run = args.dry_run.dry_run == Some(DryRun::Client);
    if !client_dry_run {
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
        access::require(&c, &needs, &c.namespace.clone()).await?;
    }
    let me = if client_dry_run {
        String::new()
    } else {
        who(&c).await
    };
    let target = format!(
        "{} {}",
        t.name,
        crate::analysis::statefulset::scope_flags(
            &c.namespace,
            g.context.as_deref(),
            g.kubeconfig
                .as_ref()
                .map(|k| k.display().to_string())
                .as_deref(),
        )
    );
    interrupt::check_with(format!("kubectl sts status {target}"));
    let mut ctx = Ctx {
        name: t.name.clone(),
        uid: sts.metadata.uid.clone().unwrap_or_default(),
        target,
        c,
        rep: Reporter::new(printer, args.output == CanaryOutput::Json),
        prompt: if args.auto {
            Prompt::AssumeYes
        } else {
            Prompt::detect(args.yes)
        },
        mode: Mode {
            auto: args.auto,
            assume_yes: args.auto || args.yes,
            interactive: tty,
        },
        soak,
        timeout,
        auto_abort: !args.no_auto_abort,
        show_patch: args.show_patch || args.output == CanaryOutput::Json,
        me,
        ignored: Vec::new(),
        asked: None,
        log: PodLog::default(),
        latencies: Vec::new(),
        step_times: Vec::new(),
    };
    let existing = CanaryState::read(&sts).transpose().map_err(|e| {
        Failure::refused(e).hint(format!(
            "remove it with: kubectl annotate sts {} -n {} {}-",
            ctx.name,
            ctx.c.namespace,
            plan::STATE_ANNOTATION
        ))
    })?;
    if let Some(st) = &existing {
        // This run supersedes what was asked before it began.
        ctx.ignored.extend(st.request.iter().map(|r| r.id.clone()));
    }
    let change = !images.is_empty() || file_patch.is_some();

    if args.pause {
        return remote::pause(&mut ctx, sts, existing).await;
    }
    if args.abort {
        let Some(state) = existing else {
            return Err(Failure::refused(format!("no canary in progress on statefulset {}", ctx.name))
                .hint(format!("there is nothing to abort; to roll back a plain rollout use: kubectl rollout undo sts {} -n {}", ctx.name, ctx.c.namespace))
                .into());
        };
        let why = if state.phase == plan::CanaryPhase::Aborting {
            Why::Resumed
        } else {
            Why::Requested {
                discard: args.discard_changes,
            }
        };
        return abort(&mut ctx, sts, state, args.dry_run.dry_run, why).await;
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
                    "resume it with: {}; or abort it with: {}",
                    ctx.cmd(""),
                    ctx.cmd(" --abort")
                ))
                .into());
            }
            if st.phase == plan::CanaryPhase::Aborting {
                ctx.rep.text("an abort was interrupted; finishing it");
                return abort(&mut ctx, sts, st, args.dry_run.dry_run, Why::Resumed).await;
            }
            if let Err(l) = ownership::check(&st, &ctx.uid, Some(&sts)) {
                return lost(&mut ctx, &st, l).await;
            }
            if args.promote {
                return remote::promote(&mut ctx, sts, st).await;
            }
            if client_dry_run {
                ctx.rep.text(&format!(
                    "a canary is in progress on statefulset {} ({} → {}), {} of {} steps complete; dry run: nothing was changed",
                    ctx.name,
                    st.from,
                    if st.to.is_empty() { "?" } else { &st.to },
                    st.completed,
                    st.counts.len()
                ));
                return Ok(Exit::Ok);
            }
            ctx.rep.text(&format!(
                "resuming the canary of statefulset {} ({} → {})",
                ctx.name,
                st.from,
                if st.to.is_empty() { "?" } else { &st.to }
            ));
            let mut st = st;
            if let Some(r) = st.request.take() {
                // Superseded: this run's first write clears it.
                ctx.rep.note(&format!(
                    "{} was requested by {} at {}; this run supersedes it",
                    r.action.as_str(),
                    r.by,
                    r.at
                ));
            }
            st
        }
        None if args.adopt => match adopt(&mut ctx, sts, &specs, &args).await? {
            Started::Applied(st) => *st,
            Started::DryRun => return Ok(Exit::Ok),
            Started::Declined => return Ok(declined(&ctx)),
        },
        None => {
            if !change {
                return Err(Failure::usage("no change given and no canary in progress")
                    .hint(format!("start one with: {} --image CONTAINER=IMAGE (or --patch-file FILE), or adopt a held change with: {}", ctx.cmd(""), ctx.cmd(" --adopt")))
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
                Started::Applied(st) => *st,
                Started::DryRun => return Ok(Exit::Ok),
                Started::Declined => return Ok(declined(&ctx)),
            }
        }
    };
    drive(&mut ctx, state, args.promote).await
}

/// Who runs this: the Kubernetes user, and the local user, host and pid.
async fn who(c: &Cluster) -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|u| !u.is_empty());
    let host = hostname();
    let local = match user {
        Some(u) => format!("{u}@{host}, pid {}", std::process::id()),
        None => format!("{host}, pid {}", std::process::id()),
    };
    match api::whoami(c).await {
        Some(k) => format!("{k} ({local})"),
        None => local,
    }
}

#[cfg(unix)]
fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

#[cfg(not(unix))]
fn hostname() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "?".into())
}

/// A fresh id for a canary or a request.
fn new_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    plan::make_id(nanos, std::process::id())
}

/// A request (or the abort) made by this session now.
fn request(ctx: &Ctx<'_>, action: RequestAction) -> Request {
    Request {
        action,
        by: ctx.me.clone(),
        at: Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        id: new_id(),
        handled_by: None,
    }
}

/// A person declined before anything was written: exit 4, no `error:`.
fn declined(ctx: &Ctx<'_>) -> Exit {
    ctx.rep.declined();
    Exit::Refused
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
    ctx.rep.clear_live();
    ctx.rep
        .note(&format!("canary paused ({why}); {}", ctx.resume_or_abort()));
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
    ctx.rep.clear_live();
    if ctx.rep.json {
        ctx.rep.event(
            "interrupted",
            json!({"state": state, "aborting": aborting}),
            "",
        );
    }
    let next = if aborting {
        format!("finish the roll-back with: {}", ctx.cmd(" --abort"))
    } else {
        ctx.resume_or_abort()
    };
    ctx.rep.note(&format!(
        "interrupted; the StatefulSet is left consistent: {state}. {next}"
    ));
    Exit::Interrupted
}

async fn signal() {
    interrupt::wait().await;
}

fn secs(d: Duration) -> String {
    machine::secs(d)
}
