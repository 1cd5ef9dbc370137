#!/usr/bin/env bash
# PS256 signatures per second of the SDK's software custody (aws-lc-rs)
# against `openssl speed rsa2048`, on one core, measured side by side in one
# run: three alternating rounds of each, medians compared.
#   benches/openssl-ratio.sh [seconds-per-round]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-3}"
cargo build --release -q -p opus-benches --bin ps256-speed
bin=target/release/ps256-speed

ours=(); theirs=()
for round in 1 2 3; do
  ours+=("$("$bin" "$secs" | awk '/^ps256/ {print $2}')")
  # openssl speed prints: "rsa 2048 bits <s/sign> <s/verify> <sign/s> <verify/s>"
  theirs+=("$(openssl speed -seconds "$secs" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')")
  echo "round $round: opus PS256 ${ours[-1]} signs/s, openssl rsa2048 ${theirs[-1]} signs/s"
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
o=$(median "${ours[@]}"); t=$(median "${theirs[@]}")
ratio=$(awk -v o="$o" -v t="$t" 'BEGIN { printf "%.3f", o / t }')
echo "median: opus PS256 $o signs/s, openssl rsa2048 $t signs/s, ratio $ratio"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(openssl version)"
