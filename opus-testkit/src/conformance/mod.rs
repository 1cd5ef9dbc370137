//! Conformance suites: one set of async test bodies per port, run against any
//! implementation with one macro call.
//!
//! * [`storage`]: every storage port, through [`crate::storage_conformance_tests!`].
//! * [`custody`]: key custody, through [`crate::key_custody_conformance_tests!`].

pub mod custody;
pub mod storage;

use std::future::Future;
use std::sync::Arc;

/// Runs a test body on a fresh multi-threaded runtime (4 workers), so race
/// tests really run in parallel. Used by the generated tests; the calling
/// crate needs no runtime of its own.
///
/// # Panics
/// When the runtime cannot be built — the test cannot run then.
#[allow(clippy::expect_used)] // test harness: a runtime that cannot start must fail the test
pub fn run<F: Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime for the conformance test")
        .block_on(body)
}

/// Starts `n` tasks that wait at a barrier and then run `task(i)` together,
/// and returns their results in task order.
///
/// # Panics
/// When a task panics (its assertion failed).
#[allow(clippy::expect_used)] // test harness: a panicking task is a failed test
pub async fn race<F, Fut, T>(n: usize, task: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let fut = task(i);
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
    for handle in handles {
        results.push(handle.await.expect("race task panicked"));
    }
    results
}
