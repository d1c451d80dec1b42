#!/usr/bin/env bash
# Where a proxy spends the first token's time at concurrency 1, from the kernel scheduler's point of view: runs the
# simulator and one proxy (the gateway as built from the working tree, or the bare proxy), streams through it one at
# a time, records every wake-up and context switch on the machine for a few seconds with perf, and prints the
# proxy's two legs (request in to request out, first chunk in to first chunk out) with its longest on-CPU run in
# each (bench/legs.py). Needs perf (Debian: linux-perf) and root.
#
#   bench/legs.sh [--target gateway|bare-proxy] [--seconds 3] [--gateway-env "K=V ..."] [--tokens 20] [--token-delay-ms 5]
#
# Fewer tokens or a shorter delay bring requests closer together: `--tokens 2 --token-delay-ms 1` shows the request
# path warm, the defaults (the benchmark's stream, a request every ~100 ms) show it cold.
#
# Everything listens on 127.0.0.1 (ports 19401-19403); the script ends the processes it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

target=gateway; seconds=3; gateway_env=""; tokens=20; token_delay_ms=5
while [ $# -gt 0 ]; do
  case $1 in
    --target) target=$2; shift 2;;
    --seconds) seconds=$2; shift 2;;
    --gateway-env) gateway_env=$2; shift 2;;
    --tokens) tokens=$2; shift 2;;
    --token-delay-ms) token_delay_ms=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
source bench/common.sh
perf_work_folder legs "to trace every process's scheduling"

for project in src/Gateway bench/Upstream bench/BareProxy bench/Load; do
  dotnet build "$project" -c Release --nologo -warnaserror -v quiet >/dev/null
done

dotnet bench/Upstream/bin/Release/net10.0/Upstream.dll --port 19401 --tokens "$tokens" --token-delay-ms "$token_delay_ms" >"$work/upstream.log" 2>&1 &
simulator=$!; pids+=("$simulator")
wait_for http://127.0.0.1:19401/
kill -0 "$simulator" 2>/dev/null || { echo "the simulator ended at start; is port 19401 taken?" >&2; exit 1; }
case $target in
  gateway)
    start_bench_gateway src/Gateway/bin/Release/net10.0/Gateway.dll 19402 19401 "$work/gateway.db" "$work/gateway.log" "$gateway_env"
    proxy=$gateway_pid; pids+=("$proxy"); port=19402; wait_for http://127.0.0.1:19402/healthz;;
  bare-proxy)
    dotnet bench/BareProxy/bin/Release/net10.0/BareProxy.dll --port 19403 --upstream http://127.0.0.1:19401 >"$work/bare.log" 2>&1 &
    proxy=$!; pids+=("$proxy"); port=19403; wait_for http://127.0.0.1:19403/;;
  *) echo "--target is gateway or bare-proxy" >&2; exit 2;;
esac
kill -0 "$proxy" 2>/dev/null || { echo "the proxy ended at start; is port $port taken? logs in $work" >&2; exit 1; }

load=(dotnet bench/Load/bin/Release/net10.0/Load.dll run --target "$target" --url "http://127.0.0.1:$port/v1/chat/completions"
  --concurrency 1 --tokens "$tokens" --min-streams 10 --out "$work/results.tsv")
# Warm up, then let the processes settle before the streams that are traced.
"${load[@]}" --warmup 1000 --seconds 1 --settle-pids "$simulator" --pids "$proxy" >/dev/null 2>&1
# No settling here, so streams flow at once; the trace starts after a second and ends well before they stop.
"${load[@]}" --warmup 0 --seconds $((seconds + 4)) >"$work/load.log" 2>&1 &
client=$!; pids+=("$client")
sleep 1
# sched_waking fires on the waker's CPU, in the waker's context: it names who woke whom.
perf record -q -e sched:sched_waking,sched:sched_switch -a -o "$work/sched.data" -- sleep "$seconds" >"$work/perf.log" 2>&1 \
  || { cat "$work/perf.log" >&2; exit 1; }
wait "$client" || { cat "$work/load.log" >&2; exit 1; }
pids=("$simulator" "$proxy") # the load generator is reaped: its PID may be another process's by now
grep -i "lost" "$work/perf.log" >&2 || true # lost events would leave legs out or stitch runs together

echo "$target at concurrency 1, $seconds s of scheduler trace (files in $work):"
python3 bench/legs.py "$work/sched.data" "$proxy" "$simulator" "$client"
