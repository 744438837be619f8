//! `kubectl sts prune-pvcs` (not available yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Exit, Failure, Outcome};
use crate::render::Printer;

/// `kubectl sts prune-pvcs`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

/// Runs `prune-pvcs`.
pub async fn run(_g: &GlobalArgs, _args: PruneArgs, _printer: &Printer) -> Outcome {
    Err(Failure::new(Exit::Bad, "kubectl sts prune-pvcs is not available yet in this version").into())
}
