//! One file per subcommand; each reads as fetch → analyze/plan → render.

pub mod completion;
pub mod status;

use crate::cli::{Cli, Command};
use crate::error::{Exit, Failure, Outcome};
use crate::render::Printer;

/// Runs the parsed command.
pub async fn dispatch(cli: Cli, printer: &Printer) -> Outcome {
    match cli.command {
        Command::Status(args) => status::run(&cli.global, args, printer).await,
        Command::Completion(args) => completion::run(args, printer),
        Command::Canary(_) => Err(Failure::new(Exit::Bad, "kubectl sts canary is not available yet in this version").into()),
        Command::PrunePvcs(_) => Err(Failure::new(Exit::Bad, "kubectl sts prune-pvcs is not available yet in this version").into()),
    }
}
