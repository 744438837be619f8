//! One file per subcommand; each reads as fetch → analyze/plan → render.

pub mod canary;
pub mod completion;
pub mod confirm;
pub mod fault;
pub mod interrupt;
pub mod prune_pvcs;
pub mod status;
pub mod status_ds;

use crate::cli::{Cli, Command};
use crate::error::Outcome;
use crate::render::Printer;

/// Runs the parsed command.
pub async fn dispatch(cli: Cli, printer: &Printer) -> Outcome {
    match cli.command {
        Command::Status(args) => status::run(&cli.global, args, printer).await,
        Command::Completion(args) => completion::run(args, printer),
        Command::Complete(_) => completion::complete(&cli.global, printer).await,
        Command::Canary(args) => canary::run(&cli.global, args, printer).await,
        Command::PrunePvcs(args) => prune_pvcs::run(&cli.global, args, printer).await,
    }
}
