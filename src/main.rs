//! `kubectl-sts`: the binary. Everything lives in the library; this only
//! parses, runs, prints the error and maps it to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    kubectl_sts::main_entry()
}
