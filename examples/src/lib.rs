//! Runnable examples of the OPUS Open Finance Brasil SDK.
//!
//! * `sandbox` (`cargo run --release -p opus-examples --bin sandbox`): a
//!   step-by-step walk through the SDK on the embedded default.
