//! The command line, declared with clap derive: every subcommand's
//! arguments live here, so `commands` and `cluster` import `cli` and never
//! each other through it. No logic beyond parsing.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Understand and safely operate StatefulSets and DaemonSets.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-sts",
    bin_name = "kubectl sts",
    version,
    after_help = crate::error::exit_codes_help(),
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's connection flags (kubectl passes them through to plugins).
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, several paths merged, then ~/.kube/config, then in-cluster)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// The kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,

    /// The kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,

    /// The namespace (default: the context's namespace, else "default")
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,

    /// How long to wait for a single request ("0" = no limit; e.g. 5s, 1m)
    #[arg(long, global = true, value_name = "DURATION")]
    pub request_timeout: Option<String>,

    /// When to colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset
    #[default]
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

/// `-o/--output` of read commands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable table
    #[default]
    Table,
    /// Table with more columns
    Wide,
    /// JSON document (versioned schema)
    Json,
    /// YAML document (same schema as JSON)
    Yaml,
}

/// `--fail-on` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Exit 1 when any warning or error is found
    Warning,
    /// Exit 1 when any error is found
    Error,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a StatefulSet ordinal by ordinal, a DaemonSet node by node, or every set in the namespace
    Status(StatusArgs),
    /// Roll out a StatefulSet change as a partitioned canary, step by step
    Canary(CanaryArgs),
    /// Delete PersistentVolumeClaims left behind by scale-down, safely
    #[command(name = "prune-pvcs")]
    PrunePvcs(PruneArgs),
    /// Print a shell completion script
    Completion(CompletionArgs),
    /// Answer shell completion requests (cobra's protocol, used by kubectl_complete-sts)
    #[command(name = "__complete", hide = true)]
    Complete(CompleteArgs),
}

/// `kubectl sts status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// NAME, sts/NAME, statefulset/NAME, ds/NAME or daemonset/NAME; none lists every set
    #[arg(value_name = "[TYPE/]NAME")]
    pub target: Option<String>,

    /// List sets in every namespace (only without a NAME)
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table, value_name = "FORMAT")]
    pub output: OutputFormat,

    /// Keep watching and re-render on every change
    #[arg(short = 'w', long)]
    pub watch: bool,

    /// Exit 1 when findings at or above this level exist
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,

    /// Cluster DNS domain used for the pods' stable names
    #[arg(long, default_value = "cluster.local", value_name = "DOMAIN")]
    pub cluster_domain: String,

    /// Show only this node (DaemonSets)
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,

    /// Show only nodes and findings with a problem (DaemonSets)
    #[arg(long)]
    pub only_problems: bool,
}

/// `--dry-run` (client side) or `--dry-run=server`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Print the plan; send nothing that changes state
    Client,
    /// Send the writes with the server's dryRun=All
    Server,
}

/// The `--dry-run[=server]` flag, shared by every write command. The value
/// attaches only with `=`, so `--dry-run web` never swallows the name.
#[derive(Debug, Args, Clone, Default)]
pub struct DryRunArg {
    /// Show what would be done and change nothing (=server: let the API server validate the writes)
    #[arg(long = "dry-run", value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "client", value_name = "MODE")]
    pub dry_run: Option<DryRun>,
}

/// Arguments of a subcommand that is not available yet.
#[derive(Debug, Args)]
pub struct PendingArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

/// `kubectl sts completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell, or kubectl-helper for the kubectl_complete-sts script that makes `kubectl sts <TAB>` work
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: CompletionShell,
}

/// What `kubectl sts completion` prints a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// Bash
    Bash,
    /// Zsh
    Zsh,
    /// Fish
    Fish,
    /// PowerShell
    Powershell,
    /// The kubectl_complete-sts script for `kubectl sts <TAB>` (kubectl 1.26+)
    KubectlHelper,
}

/// `kubectl sts __complete WORD... CURRENT` (hidden).
#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The words typed after `kubectl sts`, the last one being completed
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub words: Vec<String>,
}

/// `-o` of prune-pvcs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Tables
    #[default]
    Table,
    /// JSON document (apiVersion kubectl-sts/v1, kind PrunePlan)
    Json,
    /// YAML document (same schema as JSON)
    Yaml,
}

/// `kubectl sts prune-pvcs`.
#[derive(Debug, Args)]
#[command(
    after_help = "Never deleted: claims a pod mounts, claims whose ordinal has a pod, claims of a StatefulSet whose \
scale is in flight, claims with an ownerReference (the garbage collector deletes them), claims below an HPA's \
maxReplicas, claims of a StatefulSet scaled to 0 (unless --include-scaled-to-zero), and claims annotated \
kubectl-sts.io/prune=never. `kubectl sts status` shows the same claims as kept.\n\nExit codes: 0 all planned claims \
deleted or nothing to do (also --dry-run); 1 a claim was skipped because it changed, a DELETE failed, or a deleted \
claim's ordinal came back into range; 2 usage; 3 cluster; 4 not confirmed, or no terminal and no --yes."
)]
pub struct PruneArgs {
    /// NAME or sts/NAME: only the claims of this StatefulSet; none: every StatefulSet in the namespace
    #[arg(value_name = "NAME")]
    pub name: Option<String>,

    /// Every namespace (only without a NAME)
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Also claims of StatefulSets that no longer exist and of removed or renamed
    /// volumeClaimTemplates (weaker evidence: labels and name shape), listed separately
    #[arg(long)]
    pub include_deleted: bool,

    /// Do not protect claims below the maxReplicas of an HPA targeting the StatefulSet
    #[arg(long)]
    pub ignore_autoscaler: bool,

    /// Also claims of StatefulSets scaled to 0 (kept by default: a set at 0 replicas is often paused)
    #[arg(long)]
    pub include_scaled_to_zero: bool,

    /// Only claims at least this old (e.g. 30m, 12h, 7d)
    #[arg(long, value_name = "DURATION")]
    pub older_than: Option<String>,

    /// Only claims matching this label selector
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,

    /// Output format of the plan
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table, value_name = "FORMAT")]
    pub output: PlanFormat,

    #[command(flatten)]
    pub dry_run: DryRunArg,

    /// Delete without asking (required without a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
}

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
    #[arg(long, default_value = crate::analysis::canary::DEFAULT_STEPS, value_name = "LIST")]
    pub steps: String,

    /// Accept steps that update every pod at once, or more than half of them in the first step
    #[arg(long)]
    pub allow_big_steps: bool,

    /// How long every updated pod must stay Ready, without restarts, before a step counts as done
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub soak: String,

    /// How long an updated pod may take to become Ready (and an abort to finish)
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub timeout: String,

    /// Continue between steps without asking (implies --yes)
    #[arg(long)]
    pub auto: bool,

    /// Start, promote, pause or abort without a confirmation prompt
    #[arg(short = 'y', long, conflicts_with = "dry_run")]
    pub yes: bool,

    /// Roll back to the revision the canary started from, and unstick pods
    #[arg(long, conflicts_with_all = ["promote", "image", "patch_file", "pause"])]
    pub abort: bool,

    /// With --abort: discard changes made to the pod template outside the canary
    #[arg(long, requires = "abort")]
    pub discard_changes: bool,

    /// Finish the remaining steps at once (a running session does it; otherwise this one)
    #[arg(long)]
    pub promote: bool,

    /// Ask the session running the canary to stop between steps
    #[arg(long, conflicts_with_all = ["promote", "image", "patch_file", "adopt"])]
    pub pause: bool,

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

    /// Show the raw patches in the plan and dry runs (always in -o json)
    #[arg(long)]
    pub show_patch: bool,

    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = CanaryOutput::Text, value_name = "FORMAT")]
    pub output: CanaryOutput,

    #[command(flatten)]
    pub dry_run: DryRunArg,
}
