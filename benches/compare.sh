#!/usr/bin/env bash
# Every side-by-side figure of benches/README.md in one run: each pair is
# measured alternately, round after round, and the medians compared.
#   benches/compare.sh [rounds]          (default 3)
# Environment: OPUS_POSTGRES_ADMIN_URL (default
# postgres://postgres@127.0.0.1:5432/postgres; a database is created and
# dropped per run), OPUS_INTEROP_KIT (default target/interop, set up when
# missing). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
kit="${OPUS_INTEROP_KIT:-target/interop}"
pg="${OPUS_POSTGRES_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if [ ! -d "$kit/peer-op/node_modules/oidc-provider" ]; then
  bash ../shared/interop/setup.sh "$kit" >/dev/null
fi
cargo build --release -q -p opus-examples --bin sandbox -p opus-benches --bin loadgen
gen=target/release/loadgen
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# One run; its figures as "<per server CPU-second> <per second> <peak MiB>
# <per CPU-second with the database>".
run() {
  if ! "$gen" "$@" >"$log" 2>&1; then
    echo "FAILED: loadgen $*" >&2
    cat "$log" >&2
    exit 1
  fi
  awk '
    / per second,/ { for (i = 1; i <= NF; i++) if ($i == "per" && $(i + 1) == "second,") rate = $(i - 1) }
    /per server CPU-second/ { cpu = $5 }
    /per CPU-second of both/ { for (i = 1; i <= NF; i++) if ($i == "successful") both = $(i - 1) }
    /resident memory/ { peak = $(NF - 1) }
    END { printf "%s %s %s %s\n", cpu, rate, peak, (both == "" ? "-" : both) }
  ' "$log"
}

declare -A figures
record() { # name, figures
  figures[$1]="${figures[$1]:-} $2"
}
median() { # name, field (1 cpu, 2 rate, 3 peak, 4 both)
  echo "${figures[$1]}" | awk -v field="$2" '{ for (i = field; i <= NF; i += 4) print $i }' |
    sort -g | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'
}

for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds"
  record token "$(run --scenario token --requests 10000)"
  record token-op "$(run --peer-op "$kit" --scenario token --requests 10000)"
  record flow "$(run --scenario code-flow --requests 2000)"
  record flow-op "$(run --peer-op "$kit" --scenario code-flow --requests 1000)"
  record accounts "$(run --scenario accounts --requests 20000)"
  record hello "$(run --scenario hello --requests 50000)"
  record token-nocapture "$(run --scenario token --requests 20000 --sandbox-arg --without-metrics-capture)"
  record token-capture "$(run --scenario token --requests 20000)"
  record accounts-nocapture "$(run --scenario accounts --requests 20000 --sandbox-arg --without-metrics-capture)"
  record accounts-capture "$(run --scenario accounts --requests 20000)"
  record token-pg "$(run --scenario token --requests 5000 --postgres "$pg")"
  record payment "$(run --scenario payment --requests 2000)"
  record payment-pg "$(run --scenario payment --requests 1000 --postgres "$pg")"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
overhead() { awk -v with="$1" -v without="$2" 'BEGIN { printf "%.1f %%", (1 - with / without) * 100 }'; }
echo
echo "medians of $rounds rounds (per server CPU-second unless said):"
echo "  token endpoint: opus $(median token 1), oidc-provider $(median token-op 1): ratio $(ratio "$(median token 1)" "$(median token-op 1)") (target >= 5)"
echo "  whole code flow: opus $(median flow 1), oidc-provider $(median flow-op 1): ratio $(ratio "$(median flow 1)" "$(median flow-op 1)") (target >= 3)"
echo "  balances GET: opus $(median accounts 1), hello ceiling $(median hello 1): ratio $(ratio "$(median accounts 1)" "$(median hello 1)");" \
  "per second $(median accounts 2) vs $(median hello 2): ratio $(ratio "$(median accounts 2)" "$(median hello 2)") (target >= 0.6)"
echo "  metrics capture overhead: token $(overhead "$(median token-capture 1)" "$(median token-nocapture 1)")," \
  "balances GET $(overhead "$(median accounts-capture 1)" "$(median accounts-nocapture 1)") (target <= 3 %)"
echo "  PostgreSQL token endpoint: $(median token-pg 2) per second vs memory $(median token-capture 2): ratio $(ratio "$(median token-pg 2)" "$(median token-capture 2)");" \
  "$(median token-pg 4) per CPU-second of the server and PostgreSQL (target >= 0.5)"
echo "  payments: $(median payment 1) per server CPU-second, $(median payment 2) per second (memory);" \
  "$(median payment-pg 2) per second (PostgreSQL)"
echo "  server peak resident memory (MiB): token $(median token 3), code flow $(median flow 3), balances $(median accounts 3)," \
  "payments $(median payment 3) (memory store, state included); token $(median token-pg 3), payments $(median payment-pg 3) (PostgreSQL) (target <= 64)"
echo "  oidc-provider peak resident memory (MiB): token $(median token-op 3), code flow $(median flow-op 3)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), node $(node --version)"
