#!/usr/bin/env bash
# The token endpoint (client_credentials + private_key_jwt PS256, mTLS,
# keep-alive) of our server against the interop kit's oidc-provider,
# measured side by side in one run: three alternating rounds of each, the
# medians of requests per server CPU-second compared.
#   benches/token-ratio.sh [requests-per-round]   (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-10000}"
kit="target/interop"
if [ ! -d "$kit/peer-op/node_modules/oidc-provider" ]; then
  bash ../shared/interop/setup.sh "$kit" >/dev/null
fi
cargo build --release -q -p opus-examples --bin sandbox -p opus-benches --bin loadgen
per_cpu() { awk '/per server CPU-second/ {print $(NF-5)}'; }

ours=(); theirs=()
for round in 1 2 3; do
  ours+=("$(target/release/loadgen --requests "$requests" --connections 4 2>/dev/null | per_cpu)")
  theirs+=("$(target/release/loadgen --peer-op "$kit" --requests "$requests" --connections 4 2>/dev/null | per_cpu)")
  echo "round $round: opus ${ours[-1]}, oidc-provider ${theirs[-1]} requests per server CPU-second"
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
o=$(median "${ours[@]}"); t=$(median "${theirs[@]}")
ratio=$(awk -v o="$o" -v t="$t" 'BEGIN { printf "%.2f", o / t }')
echo "median: opus $o, oidc-provider $t requests per server CPU-second, ratio $ratio"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), node $(node --version)"
