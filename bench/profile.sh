#!/usr/bin/env bash
# Where the gateway's CPU goes while it streams: runs the simulator and the gateway (as built from the working tree),
# warms them up, lets them settle, then samples the gateway's stacks with perf while the load generator streams at one
# concurrency, and prints the samples' shares two ways (bench/profile.py): by the code a sample was in (the gateway's
# own, the framework's managed code, the runtime, the JIT, the kernel) and by the innermost stage on its stack
# (Kestrel, middleware, authentication, JSON, HttpClient, the routing layers, ...). Needs perf (Debian: linux-perf)
# and root.
#
#   bench/profile.sh [--concurrency 16] [--seconds 10] [--frequency 999] [--gateway-env "K=V ..."]
#
# Shares, not times: sampling slows the gateway a little, and a share says where its time goes, not how much there is.
# At concurrency 1 most samples are idle workers spinning; at 16 and 256 the token loop dominates.
#
# Everything listens on 127.0.0.1 (ports 19411-19412); the script ends the processes it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

concurrency=16; seconds=10; frequency=999; gateway_env=""
while [ $# -gt 0 ]; do
  case $1 in
    --concurrency) concurrency=$2; shift 2;;
    --seconds) seconds=$2; shift 2;;
    --frequency) frequency=$2; shift 2;;
    --gateway-env) gateway_env=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
source bench/common.sh
perf_work_folder profile "to read the gateway's perf map and stacks"

for project in src/Gateway bench/Upstream bench/Load; do
  dotnet build "$project" -c Release --nologo -warnaserror -v quiet >/dev/null
done

dotnet bench/Upstream/bin/Release/net10.0/Upstream.dll --port 19411 >"$work/upstream.log" 2>&1 &
simulator=$!; pids+=("$simulator")
wait_for http://127.0.0.1:19411/
kill -0 "$simulator" 2>/dev/null || { echo "the simulator ended at start; is port 19411 taken?" >&2; exit 1; }
# The perf map names JIT'd methods (/tmp/perf-PID.map); with W^X on, JIT'd code runs from a second mapping the map
# does not cover, and its frames would not resolve.
start_bench_gateway src/Gateway/bin/Release/net10.0/Gateway.dll 19412 19411 "$work/gateway.db" "$work/gateway.log" \
  "DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 $gateway_env"
gateway=$gateway_pid; pids+=("$gateway")
wait_for http://127.0.0.1:19412/healthz
kill -0 "$gateway" 2>/dev/null || { echo "the gateway ended at start; is port 19412 taken? logs in $work" >&2; exit 1; }

load=(dotnet bench/Load/bin/Release/net10.0/Load.dll run --target gateway --url http://127.0.0.1:19412/v1/chat/completions
  --concurrency "$concurrency" --out "$work/results.tsv")
# Warm up (two settled rounds: see LoadRun), then sample streams that start at once.
"${load[@]}" --warmup 1000 --seconds 1 --settle-pids "$simulator" --pids "$gateway" >/dev/null 2>&1
"${load[@]}" --warmup 0 --seconds $((seconds + 4)) >"$work/load.log" 2>&1 &
client=$!; pids+=("$client")
sleep 1
perf record -q -e cpu-clock -F "$frequency" -g -p "$gateway" -o "$work/cpu.data" -- sleep "$seconds" >"$work/perf.log" 2>&1 \
  || { cat "$work/perf.log" >&2; exit 1; }
wait "$client" || { cat "$work/load.log" >&2; exit 1; }
pids=("$simulator" "$gateway") # the load generator is reaped: its PID may be another process's by now

echo "gateway at concurrency $concurrency, $seconds s of samples at $frequency Hz (files in $work):"
perf script -i "$work/cpu.data" -F comm,tid,ip,sym,dso >"$work/stacks.txt" 2>"$work/script.log"
python3 bench/profile.py "$work/stacks.txt"
