//! Runnable examples of the OPUS Open Finance Brasil SDK.
//!
//! Not a library to depend on: the binaries here show how the crates
//! compose, with test keys and in-memory state.
//!
//! * `sandbox` (`cargo run --release -p opus-examples --bin sandbox`): a
//!   step-by-step walk through the SDK on the embedded default.
