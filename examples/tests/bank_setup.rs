//! The benchmark knobs of a loopback bank: the operational limits raised
//! by `quota_factor`, and no metrics captured without `metrics_capture`.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use opus_core::{Clock, Storage, SystemClock};
use opus_examples::bank::{BankSetup, BrandSetup, LoopbackBank, sandbox_customer};
use opus_examples::fintech::{FINTECH_REDIRECT, SandboxFintech};
use opus_examples::journeys::data_consent;
use opus_store::MemoryStore;
use opus_testkit::SyntheticBank;
use url::Url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raised_quota_allows_more_reads_and_a_bank_without_capture_reports_nothing() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut brands = BrandSetup::sandbox();
    brands.truncate(1);
    let bank = LoopbackBank::start_with(BankSetup {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        public_url: None,
        brands,
        storage: Storage::from_backend(Arc::new(MemoryStore::new())),
        clock: clock.clone(),
        synthetic: SyntheticBank::new(clock.now().date_in_brasilia()),
        gateway: None,
        metrics_capture: false,
        quota_factor: 2,
    })
    .await
    .unwrap();
    let fintech = SandboxFintech::join(&bank, "leitora", &["DADOS"], None)
        .await
        .unwrap();
    let receiver = opus_drx::DataReceiver::new(
        fintech.client(),
        bank.api_url("").unwrap(),
        Url::parse(FINTECH_REDIRECT).unwrap(),
    );
    let consent = data_consent(&receiver, clock.as_ref(), &sandbox_customer().unwrap())
        .await
        .unwrap();
    let params = fintech
        .browse(&consent.pending.authorization_url)
        .await
        .unwrap();
    let tokens = receiver.complete(&consent, &params).await.unwrap();

    // The accounts list allows 8 calls a month; twice that here.
    let limit = opus_core::data_apis::endpoints::ACCOUNTS
        .monthly_limit
        .unwrap();
    for call in 1..=2 * limit {
        receiver
            .accounts(&tokens)
            .await
            .unwrap_or_else(|e| panic!("call {call} of {}: {e}", 2 * limit));
    }
    assert!(
        receiver.accounts(&tokens).await.is_err(),
        "past twice the limit"
    );

    // Nothing was captured for the metrics collector.
    let pass = bank.send_reports().await.unwrap();
    assert_eq!(pass.accepted, 0, "{pass:?}");
    assert!(bank.metrics_collector().reports().is_empty());
    bank.stop().await;
}
