//! `kubectl sts completion SHELL`.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionArgs};
use crate::error::{Exit, Outcome};
use crate::render::Printer;

/// Generates the completion script for a shell as a string.
pub fn script(shell: clap_complete::Shell) -> String {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kubectl-sts", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Prints the completion script.
pub fn run(args: CompletionArgs, printer: &Printer) -> Outcome {
    printer.out(&script(args.shell));
    Ok(Exit::Ok)
}
