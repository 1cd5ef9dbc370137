//! The load generator runs every scenario end to end (a few calls each, no
//! figures asserted: performance is measured by `benches/compare.sh`, not
//! by tests): against the sandbox's bank (the sandbox binary built next to
//! it, as `cargo test --workspace` does), against the raw hello server,
//! and against the interop kit's oidc-provider when `OPUS_INTEROP_DIR`
//! points at the kit (skipped with a message without it, except under
//! `CI=true`, where it fails).

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn loadgen(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .output()
        .expect("loadgen runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "loadgen {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    assert!(stdout.contains("per server CPU-second"), "{stdout}");
    assert!(stdout.contains("resident memory"), "{stdout}");
    stdout
}

/// The sandbox binary of the same build.
fn sandbox() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_loadgen"))
        .parent()
        .expect("a directory")
        .to_owned();
    let sandbox = dir.join(format!("sandbox{}", std::env::consts::EXE_SUFFIX));
    if sandbox.exists() {
        return Some(sandbox);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but {} was not built", sandbox.display());
    }
    eprintln!(
        "skipping: build the sandbox first (cargo build -p opus-examples --bin sandbox, or cargo test --workspace)"
    );
    None
}

#[test]
fn the_hello_ceiling_answers_every_call() {
    let out = loadgen(&["--scenario", "hello", "--requests", "200"]);
    assert!(out.contains("raw hyper + rustls hello"), "{out}");
}

#[test]
fn every_scenario_runs_against_the_sandbox_bank() {
    let Some(sandbox) = sandbox() else { return };
    let sandbox = sandbox.to_str().expect("a UTF-8 path");
    for (scenario, requests) in [
        ("token", "40"),
        ("code-flow", "10"),
        ("accounts", "40"),
        ("payment", "10"),
    ] {
        let out = loadgen(&[
            "--sandbox",
            sandbox,
            "--scenario",
            scenario,
            "--requests",
            requests,
            "--connections",
            "2",
        ]);
        assert!(out.contains("opus (sandbox bank"), "{out}");
    }
}

#[test]
fn token_and_code_flow_run_against_oidc_provider() {
    let kit = match std::env::var("OPUS_INTEROP_DIR") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but OPUS_INTEROP_DIR is not set")
        }
        Err(_) => {
            eprintln!(
                "skipping: run ../shared/interop/setup.sh target/interop and set OPUS_INTEROP_DIR"
            );
            return;
        }
    };
    let kit = kit.to_str().expect("a UTF-8 path");
    for (scenario, requests) in [("token", "40"), ("code-flow", "10")] {
        let out = loadgen(&[
            "--peer-op",
            kit,
            "--scenario",
            scenario,
            "--requests",
            requests,
        ]);
        assert!(out.contains("oidc-provider"), "{out}");
    }
}
