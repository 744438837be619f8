//! kubectl-sts: understand and safely operate StatefulSets and DaemonSets.
//!
//! Layout: `cli` (clap), `commands` (glue, one file per subcommand),
//! `cluster` (the only module that talks to the API server), `analysis`
//! and `ops` (pure logic over plain k8s-openapi objects), `render` (the only
//! module that writes output).

pub mod analysis;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod duration;
pub mod error;
pub mod model;
pub mod ops;
pub mod render;
pub mod target;

use std::process::ExitCode;

use clap::Parser;

use crate::error::Exit;

/// Parses the command line, runs it, prints any error, returns the exit code.
pub fn main_entry() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return ExitCode::from(report_clap(e)),
    };
    let printer = render::Printer::new(cli.global.color);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.error(&format!("cannot start the async runtime: {e}"), None);
            return ExitCode::from(Exit::Bad.code());
        }
    };
    let result = rt.block_on(commands::dispatch(cli, &printer));
    let code = match result {
        Ok(exit) => exit,
        Err(err) => {
            let (exit, msg, hint) = error::describe(&err);
            printer.error(&msg, hint.as_deref());
            exit
        }
    };
    ExitCode::from(code.code())
}

/// Prints a clap error as one `error:` line plus a `hint:`; returns the code.
fn report_clap(e: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                Exit::Usage.code()
            } else {
                0
            }
        }
        _ => {
            let text = e.render().to_string();
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            let first = lines
                .next()
                .unwrap_or("error: invalid arguments")
                .trim()
                .to_string();
            let mut first = if first.starts_with("error:") {
                first
            } else {
                format!("error: {first}")
            };
            // "…not provided:" is followed by the missing arguments, one per
            // indented line: keep them on the one error line.
            if first.ends_with(':') {
                let items: Vec<&str> = text
                    .lines()
                    .skip_while(|l| l.trim() != first.as_str())
                    .skip(1)
                    .take_while(|l| l.starts_with("  ") && !l.trim().is_empty())
                    .map(str::trim)
                    .collect();
                if !items.is_empty() {
                    first = format!("{first} {}", items.join(", "));
                }
            }
            let tip = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("tip: ").map(str::to_string))
                .or_else(|| {
                    text.lines().find_map(|l| {
                        let l = l.trim();
                        l.strip_prefix("[possible values: ")
                            .and_then(|v| v.strip_suffix(']'))
                            .map(|v| format!("possible values: {v}"))
                    })
                });
            let printer = render::Printer::new(cli::ColorChoice::Never);
            let msg = first.trim_start_matches("error:").trim();
            let hint = tip.unwrap_or_else(|| "see 'kubectl sts --help'".to_string());
            printer.error(msg, Some(&hint));
            Exit::Usage.code()
        }
    }
}
