//! PS256 signatures per second on one core for a fixed duration, printed
//! as `ps256 <signs/s>` — the methodology of `openssl speed`, for a side by
//! side ratio (`benches/openssl-ratio.sh`).
//!
//! Usage: `ps256-speed [seconds]` (default 3).

use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::RSA_PSS_SHA256;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(3);
    let key = KeyPair::generate(KeySize::Rsa2048).map_err(|e| e.to_string())?;
    let rng = SystemRandom::new();
    let input = opus_benches::signing_input();
    let mut signature = vec![0u8; key.public_modulus_len()];
    // The same operation the software custody's signer performs.
    let deadline = Duration::from_secs(seconds);
    let start = Instant::now();
    let mut count: u64 = 0;
    while start.elapsed() < deadline {
        key.sign(&RSA_PSS_SHA256, &rng, &input, &mut signature)
            .map_err(|e| e.to_string())?;
        count += 1;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    println!("ps256 {rate:.1}");
    Ok(())
}
