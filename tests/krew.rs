//! Installs the plugin with a real krew (built from its Go module by
//! scripts/build-tools) into a throw-away KREW_ROOT, from the archive
//! scripts/package makes, and checks kubectl finds and runs it. Also checks
//! the release workflow with actionlint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding `kubectl-krew` and `actionlint` (built once).
fn tools() -> &'static PathBuf {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        let out = Command::new(root().join("scripts/build-tools"))
            .output()
            .expect("scripts/build-tools");
        assert!(
            out.status.success(),
            "scripts/build-tools failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("kubectl-krew").exists(),
            "no kubectl-krew in {}",
            dir.display()
        );
        dir
    })
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kubectl-sts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Packaged {
    archive: PathBuf,
    manifest: PathBuf,
    sha: String,
}

/// Runs scripts/package on the binary under test (no rebuild).
fn package(dir: &Path, base_url: &str) -> Packaged {
    let manifest = dir.join("sts.yaml");
    std::fs::copy(root().join("krew/sts.yaml"), &manifest).unwrap();
    let out = Command::new(root().join("scripts/package"))
        .env("BIN", common::bin())
        .env("PROFILE", "debug")
        .env("GZIP_LEVEL", "1")
        .env("OUT", dir)
        .env("MANIFEST", &manifest)
        .env("BASE_URL", base_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/package failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let archive = PathBuf::from(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or(""),
    );
    assert!(archive.exists(), "archive {} missing", archive.display());
    let sha = Command::new("sha256sum").arg(&archive).output().unwrap();
    let sha = String::from_utf8_lossy(&sha.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        text.contains(&format!("sha256: \"{sha}\"")),
        "manifest lacks the archive's sha256 {sha}:\n{text}"
    );
    Packaged {
        archive,
        manifest,
        sha,
    }
}

fn krew(root_dir: &Path, path: &str, args: &[&str]) -> common::Run {
    let out = Command::new(tools().join("kubectl-krew"))
        .args(args)
        .env("KREW_ROOT", root_dir)
        .env("KREW_NO_UPGRADE_CHECK", "1")
        .env("PATH", path)
        .env("HOME", root_dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn path_with(krew_root: &Path) -> String {
    format!(
        "{}:{}:{}",
        krew_root.join("bin").display(),
        tools().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Checks the installed plugin: `kubectl sts --help` runs the krew-installed
/// binary, `kubectl plugin list` finds it, and it reaches the sandbox.
fn check_installed(krew_root: &Path, path: &str) {
    let link = krew_root.join("bin/kubectl-sts");
    assert!(link.exists(), "krew did not link {}", link.display());
    let help = Command::new("kubectl")
        .args(["sts", "--help"])
        .env("PATH", path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.status.success(),
        "{}",
        String::from_utf8_lossy(&help.stderr)
    );
    assert!(
        text.contains("Usage: kubectl sts") && text.contains("Exit codes:"),
        "{text}"
    );

    let list = Command::new("kubectl")
        .args(["plugin", "list"])
        .env("PATH", path)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    let want = link.display().to_string();
    assert!(
        listed.lines().any(|l| l.trim() == want),
        "kubectl plugin list does not show {want}:\n{listed}"
    );

    let status = Command::new("kubectl")
        .args(["sts", "status", "-n", "kube-system"])
        .env("PATH", path)
        .env("KUBECONFIG", &common::env().kubeconfig)
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn krew_installs_from_manifest_and_archive() {
    let dir = tmpdir("krew-manifest");
    let p = package(&dir, "https://example.invalid/releases/v0");
    let krew_root = dir.join("krew-root");
    let path = path_with(&krew_root);
    let r = krew(
        &krew_root,
        &path,
        &[
            "install",
            &format!("--manifest={}", p.manifest.display()),
            &format!("--archive={}", p.archive.display()),
        ],
    );
    assert_eq!(
        r.code, 0,
        "krew install failed:\n{}\n{}",
        r.stdout, r.stderr
    );
    check_installed(&krew_root, &path);

    assert!(
        krew_root.join("receipts/sts.yaml").exists(),
        "krew wrote no install receipt"
    );

    // krew verifies the sha256: a manifest naming another digest is refused.
    let bad = dir.join("bad.yaml");
    let text = std::fs::read_to_string(&p.manifest)
        .unwrap()
        .replace(&p.sha, &"ab".repeat(32));
    std::fs::write(&bad, text).unwrap();
    let other = dir.join("krew-root-2");
    let r = krew(
        &other,
        &path_with(&other),
        &[
            "install",
            &format!("--manifest={}", bad.display()),
            &format!("--archive={}", p.archive.display()),
        ],
    );
    assert_ne!(r.code, 0, "krew accepted a wrong sha256:\n{}", r.stdout);
    assert!(
        r.stderr.to_lowercase().contains("sha256") || r.stderr.contains("checksum"),
        "{}",
        r.stderr
    );

    let _ = std::fs::remove_dir_all(&dir);
}

/// Serves one file over HTTP on 127.0.0.1 (krew downloads archives with
/// Go's HTTP client, which has no file:// support).
fn serve(file: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = std::fs::read(&file).unwrap_or_default();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "init.defaultBranch=master",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The documented user flow: `kubectl krew index add kubectl-sts <git-url>`
/// then `kubectl krew install kubectl-sts/sts`, from a custom index laid out
/// like krew/index (a git repository with plugins/sts.yaml).
#[test]
fn krew_custom_index_add_and_install() {
    let dir = tmpdir("krew-index");
    // The archive is served from 127.0.0.1; the manifest's uri points there.
    let pkg_dir = dir.join("pkg");
    std::fs::create_dir_all(&pkg_dir).unwrap();
    let placeholder = pkg_dir.join("archive");
    let base = serve(placeholder.clone());
    let p = package(&pkg_dir, &base);
    std::fs::copy(&p.archive, &placeholder).unwrap();

    let index = dir.join("index");
    std::fs::create_dir_all(index.join("plugins")).unwrap();
    std::fs::copy(&p.manifest, index.join("plugins/sts.yaml")).unwrap();
    git(&index, &["init", "-q"]);
    git(&index, &["add", "."]);
    git(&index, &["commit", "-qm", "sts"]);

    let krew_root = dir.join("krew-root");
    let path = path_with(&krew_root);
    let r = krew(
        &krew_root,
        &path,
        &["index", "add", "kubectl-sts", index.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "index add:\n{}\n{}", r.stdout, r.stderr);
    let r = krew(&krew_root, &path, &["index", "list"]);
    assert!(
        r.stdout.lines().any(|l| l.starts_with("kubectl-sts")),
        "{}",
        r.stdout
    );
    let r = krew(&krew_root, &path, &["install", "kubectl-sts/sts"]);
    assert_eq!(
        r.code, 0,
        "install from the custom index:\n{}\n{}",
        r.stdout, r.stderr
    );
    assert!(
        r.stderr.contains("Caveats") || r.stdout.contains("Caveats"),
        "caveats not shown:\n{}{}",
        r.stdout,
        r.stderr
    );
    check_installed(&krew_root, &path);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The committed index copy is the manifest itself.
#[test]
fn index_copy_matches_manifest() {
    let a = std::fs::read_to_string(root().join("krew/sts.yaml")).unwrap();
    let b = std::fs::read_to_string(root().join("krew/index/plugins/sts.yaml")).unwrap();
    assert_eq!(
        a, b,
        "krew/index/plugins/sts.yaml differs from krew/sts.yaml"
    );
    for plat in ["linux", "darwin", "windows"] {
        for arch in ["amd64", "arm64"] {
            assert!(
                a.contains(&format!("os: {plat}\n        arch: {arch}\n")),
                "{plat}/{arch} missing"
            );
        }
    }
}

#[test]
fn release_workflow_passes_actionlint() {
    let wf = root().join(".github/workflows/release.yml");
    let out = Command::new(tools().join("actionlint"))
        .arg("-no-color")
        .arg(&wf)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And actionlint really checks: a broken copy is rejected.
    let dir = tmpdir("actionlint");
    let bad = dir.join("bad.yml");
    let text = std::fs::read_to_string(&wf)
        .unwrap()
        .replace("runs-on:", "runs_on:");
    std::fs::write(&bad, text).unwrap();
    let out = Command::new(tools().join("actionlint"))
        .arg("-no-color")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "actionlint accepted a broken workflow"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
