//! The command line, declared with clap derive. No logic beyond parsing.

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
    Canary(crate::commands::canary::CanaryArgs),
    /// Delete PersistentVolumeClaims left behind by scale-down, safely
    #[command(name = "prune-pvcs")]
    PrunePvcs(crate::commands::prune_pvcs::PruneArgs),
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
