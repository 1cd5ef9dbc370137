//! The sandbox's journeys against a loopback bank: every one completes,
//! and its trace names each step.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use opus_examples::bank::LoopbackBank;
use opus_examples::journeys::{Trace, run_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sandbox_journey_completes() {
    let bank = LoopbackBank::start().await.unwrap();
    let mut printed = Vec::new();
    let outcomes = {
        let mut trace = Trace::new(&mut printed);
        run_all(&bank, &mut trace).await
    };
    // A ready-made identity's files, private keys among them, are the
    // owner's only.
    let fintech =
        opus_examples::fintech::SandboxFintech::join(&bank, "identidade", &["DADOS"], None)
            .await
            .unwrap();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("identity-{}", uuid::Uuid::new_v4().simple()));
    let identity = fintech.write_identity(&dir).unwrap();
    bank.stop().await;
    for key in [
        "transport_key_path",
        "signing_key_path",
        "encryption_key_path",
        "software_statement_path",
    ] {
        let path = identity[key].as_str().unwrap();
        assert!(std::path::Path::new(path).exists(), "{key}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{key} is readable by others: {mode:o}");
        }
    }
    let printed = String::from_utf8(printed).unwrap();
    assert_eq!(outcomes.len(), 3, "{printed}");
    for outcome in &outcomes {
        assert!(outcome.failure.is_none(), "{outcome:?}\n{printed}");
    }
    for expected in [
        "revokes the consent in the bank's app",
        "next read is refused",
        "REJECTED by the USER",
        "The bank's webhook reaches the initiator",
        "SCHD",
        "reads the payment again: ACSC",
    ] {
        assert!(printed.contains(expected), "no {expected:?} in:\n{printed}");
    }
}
