#!/usr/bin/env bash
# Compares two gateways side by side: two builds (git revisions) and/or two environments, both running at once
# over one simulator, measured in alternating cells (direct, A, B, bare proxy, then again). Successive
# bench/run.sh runs differ by up to ~0.1 ms at concurrency 1 as the shared machine drifts; cells a few seconds
# apart see the same machine, so the difference between A and B in each round is what the change did. A and B take
# turns going first.
#
#   bench/pair.sh [--a REV] [--b REV] [--a-env "K=V ..."] [--b-env "K=V ..."] [--rounds 6] [--streams 100]
#                 [--concurrency 1] [--tokens 20] [--token-delay-ms 5]
#
# REV is any git revision, or "." for the working tree (the default for both). Prints each cell's TTFT p50, the
# time each target adds over direct, and B minus A per round with its median. Everything listens on 127.0.0.1;
# every cell is bounded by --streams; the script ends the processes it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

a_rev=.; b_rev=.; a_env=""; b_env=""; rounds=6; streams=100; concurrency=1; tokens=20; token_delay_ms=5
while [ $# -gt 0 ]; do
  case $1 in
    --a) a_rev=$2; shift 2;;
    --b) b_rev=$2; shift 2;;
    --a-env) a_env=$2; shift 2;;
    --b-env) b_env=$2; shift 2;;
    --rounds) rounds=$2; shift 2;;
    --streams) streams=$2; shift 2;;
    --concurrency) concurrency=$2; shift 2;;
    --tokens) tokens=$2; shift 2;;
    --token-delay-ms) token_delay_ms=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done

work=$(mktemp -d /tmp/gateway-pair.XXXXXX)
pids=()
trees=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for tree in "${trees[@]}"; do git worktree remove --force "$tree" 2>/dev/null || true; done
}
trap cleanup EXIT

built=""
build() { # rev: builds it and sets $built to the gateway dll (not in $(...): there a failure would go unnoticed)
  local rev=$1 dir=$PWD
  if [ "$rev" != . ]; then
    dir=$work/tree-$(git rev-parse --short "$rev")
    if [ ! -d "$dir" ]; then
      git worktree add --detach --force -q "$dir" "$rev"
      trees+=("$dir")
    fi
  fi
  dotnet build "$dir/src/Gateway" -c Release --nologo -warnaserror -v quiet >/dev/null
  built=$dir/src/Gateway/bin/Release/net10.0/Gateway.dll
}

echo "== build: A = $a_rev, B = $b_rev" >&2
build "$a_rev"; a_dll=$built
build "$b_rev"; b_dll=$built
for project in bench/Upstream bench/BareProxy bench/Load; do
  dotnet build "$project" -c Release --nologo -warnaserror -v quiet >/dev/null
done

source bench/common.sh

dotnet bench/Upstream/bin/Release/net10.0/Upstream.dll --port 19301 --tokens "$tokens" --token-delay-ms "$token_delay_ms" >"$work/upstream.log" 2>&1 &
upstream=$!; pids+=("$upstream")
dotnet bench/BareProxy/bin/Release/net10.0/BareProxy.dll --port 19302 --upstream http://127.0.0.1:19301 >"$work/bare.log" 2>&1 &
bare=$!; pids+=("$bare")
start_bench_gateway "$a_dll" 19303 19301 "$work/a.db" "$work/a.log" "$a_env"; gateway_a=$gateway_pid; pids+=("$gateway_a")
start_bench_gateway "$b_dll" 19304 19301 "$work/b.db" "$work/b.log" "$b_env"; gateway_b=$gateway_pid; pids+=("$gateway_b")
wait_for http://127.0.0.1:19301/; wait_for http://127.0.0.1:19302/
wait_for http://127.0.0.1:19303/healthz; wait_for http://127.0.0.1:19304/healthz
# Something else on one of the ports would answer too: make sure the processes measured are ours.
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "process $pid ended at start; is a port taken? logs in $work" >&2; exit 1; }
done

results=$work/results.tsv
cell() { # target port pid warm-up
  dotnet bench/Load/bin/Release/net10.0/Load.dll run --target "$1" --url "http://127.0.0.1:$2/v1/chat/completions" \
    --concurrency "$concurrency" --tokens "$tokens" --seconds 0 --min-streams "$streams" --warmup "$4" \
    --out "$results" --settle-pids "$upstream,$gateway_a,$gateway_b,$bare" --pids "$3" 2>&1 | grep -v warm-up >&2
}
warmup=1000
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds" >&2
  cell direct 19301 "$upstream" $warmup
  # A and B take turns going first, so going first or second is no part of their difference.
  if [ $((round % 2)) -eq 1 ]; then
    cell A 19303 "$gateway_a" $warmup; cell B 19304 "$gateway_b" $warmup
  else
    cell B 19304 "$gateway_b" $warmup; cell A 19303 "$gateway_a" $warmup
  fi
  cell bare-proxy 19302 "$bare" $warmup
  warmup=100
done

# Columns of the results file: target, concurrency, streams, errors, TTFT p50 ms, ...
awk -F'\t' -v rounds="$rounds" -v concurrency="$concurrency" -v streams="$streams" '
  function median(values, n,    sorted, i, j, t) {
    for (i = 1; i <= n; i++) sorted[i] = values[i]
    for (i = 2; i <= n; i++) for (j = i; j > 1 && sorted[j-1] > sorted[j]; j--) { t = sorted[j]; sorted[j] = sorted[j-1]; sorted[j-1] = t }
    return n % 2 ? sorted[(n+1)/2] : (sorted[n/2] + sorted[n/2+1]) / 2
  }
  { count[$1]++; p50[$1, count[$1]] = $5; errors[$1] += $4 }
  END {
    printf "TTFT p50 (ms) per round, concurrency %s, %s streams a cell\n", concurrency, streams
    split("direct A B bare-proxy", targets, " ")
    for (t = 1; t <= 4; t++) {
      name = targets[t]; line = sprintf("%-17s", name)
      for (r = 1; r <= rounds; r++) { line = line sprintf(" %6.2f", p50[name, r]); value[r] = p50[name, r] }
      printf "%s   median %.3f   errors %d\n", line, median(value, rounds), errors[name]
    }
    for (t = 2; t <= 4; t++) {
      name = targets[t]; line = sprintf("%-17s", "added " name)
      for (r = 1; r <= rounds; r++) { value[r] = p50[name, r] - p50["direct", r]; line = line sprintf(" %+6.2f", value[r]) }
      printf "%s   median %+.3f\n", line, median(value, rounds)
    }
    line = sprintf("%-17s", "B minus A")
    for (r = 1; r <= rounds; r++) { value[r] = p50["B", r] - p50["A", r]; line = line sprintf(" %+6.2f", value[r]) }
    printf "%s   median %+.3f\n", line, median(value, rounds)
  }' "$results"
echo "A = $a_rev${a_env:+ with $a_env}; B = $b_rev${b_env:+ with $b_env}; files in $work"
