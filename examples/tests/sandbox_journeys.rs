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
    bank.stop().await;
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
