//! The README's "from source" install path: `cargo install --locked --path .`
//! installs a working `kubectl-sts` (debug profile and the existing target
//! directory, so it only copies what the test build already compiled).

#[test]
fn cargo_install_from_source_works() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dest = std::env::temp_dir().join(format!("kubectl-sts-install-{}", std::process::id()));
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{root}/target"));
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "install",
            "--locked",
            "--offline",
            "--debug",
            "--path",
            root,
            "--root",
        ])
        .arg(&dest)
        .args(["--target-dir", &target])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo install failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = dest.join("bin").join("kubectl-sts");
    let v = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .expect("installed binary runs");
    assert!(v.status.success());
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("kubectl-sts {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(
        !dest.join("bin").join("sts-sandbox").exists(),
        "only the plugin is installed"
    );
    let _ = std::fs::remove_dir_all(&dest);
}
