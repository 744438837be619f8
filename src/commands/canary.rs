//! `kubectl sts canary` (not available yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Exit, Failure, Outcome};
use crate::render::Printer;

/// `kubectl sts canary`.
#[derive(Debug, Args)]
pub struct CanaryArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

/// Runs `canary`.
pub async fn run(_g: &GlobalArgs, _args: CanaryArgs, _printer: &Printer) -> Outcome {
    Err(Failure::new(Exit::Bad, "kubectl sts canary is not available yet in this version").into())
}
