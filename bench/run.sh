#!/usr/bin/env bash
# Runs the same streaming workload directly against the upstream simulator, through nginx, through a bare C# proxy
# (bench/BareProxy: Kestrel in, HttpClient out, bytes copied; the floor for any ASP.NET Core proxy) and through the
# gateway, at each concurrency, and prints one table; then holds 5,000 slow streams open through the gateway and reports
# its memory. Loopback only; every process it starts it ends by PID.
#
#   bench/run.sh [--seconds 8] [--min-streams 200] [--concurrency "1 16 256"] [--warmup 1000] [--tokens 20]
#                [--token-delay-ms 5] [--token-timer precise|coarse] [--hold-streams 5000] [--no-hold] [--gateway-env "DOTNET_gcServer=0 ..."] [--flow-runs N]
#                [--peer portkey] [--out DIR]
#
# Each cell streams for --seconds, and on until --min-streams have started: at concurrency 1 a stream takes ~100 ms,
# and the p99 of the ~80 that 8 s allows would be the single worst one.
#
# --token-timer coarse makes the simulator wait with Task.Delay, as it did before 2026-12-05: .NET's timers fall due
# only on 4 ms steps here, so every stream's tokens then fall due together, in bursts (see bench/Upstream/TokenClock.cs
# and docs/BENCHMARKS.md, "The bursts at concurrency 16").
#
# --flow-runs N adds a target `gateway+runs`: the same gateway measured while N clients keep flow runs going
# (two LLM nodes on the simulator each, every token an SQLite write), to see whether runs slow /v1 down.
#
# --peer portkey adds a target `portkey`: Portkey's open-source gateway (@portkey-ai/gateway, pinned with its lock file
# in bench/portkey; `npm ci` there on first use), on Node, routing to the simulator as an OpenAI-compatible custom host.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=8; min_streams=200; concurrency="1 16 256"; warmup=1000; tokens=20; token_delay_ms=5; token_timer=precise
hold_streams=5000; hold=1; gateway_env=""; flow_runs=0; peer=""; out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds=$2; shift 2;;
    --min-streams) min_streams=$2; shift 2;;
    --concurrency) concurrency=$2; shift 2;;
    --warmup) warmup=$2; shift 2;;
    --tokens) tokens=$2; shift 2;;
    --token-delay-ms) token_delay_ms=$2; shift 2;;
    --token-timer) token_timer=$2; shift 2;;
    --hold-streams) hold_streams=$2; shift 2;;
    --no-hold) hold=0; shift;;
    --gateway-env) gateway_env=$2; shift 2;;
    --flow-runs) flow_runs=$2; shift 2;;
    --peer) peer=$2; [[ $peer == portkey ]] || { echo "--peer: only portkey is known" >&2; exit 2; }; shift 2;;
    --out) out=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done

command -v nginx >/dev/null || { echo "nginx is needed: apt-get install -y nginx-light" >&2; exit 1; }
# 5,000 held streams need about 10,000 descriptors in the gateway (both sides of each stream).
ulimit -n "$(ulimit -Hn)"
[[ $(ulimit -n) == unlimited || $(ulimit -n) -ge $((hold_streams * 2 + 1000)) ]] || echo "warning: ulimit -n is $(ulimit -n)" >&2
work=$(mktemp -d /tmp/gateway-bench.XXXXXX)
out=${out:-$work}
mkdir -p "$out"
results="$out/results.tsv"; hold_results="$out/hold.tsv"; flow_results="$out/flow-runs.tsv"
: > "$results"; : > "$hold_results"

upstream_port=19001; slow_port=19002; nginx_port=19081; bare_port=19082; portkey_port=19083; gateway_port=19080; alloc_port=19101
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

echo "== build (Release)" >&2
for project in src/Gateway bench/Upstream bench/BareProxy bench/Load bench/AllocHook; do
  dotnet build "$project" -c Release --nologo -warnaserror -v quiet >/dev/null
done
gateway_dll=src/Gateway/bin/Release/net10.0/Gateway.dll
load=(dotnet bench/Load/bin/Release/net10.0/Load.dll)
hook=$PWD/bench/AllocHook/bin/Release/net10.0/AllocHook.dll

source bench/common.sh

start_upstream() { # port token-count delay-ms
  dotnet bench/Upstream/bin/Release/net10.0/Upstream.dll --port "$1" --tokens "$2" --token-delay-ms "$3" --token-timer "$token_timer" &
  upstream_pid=$!
  pids+=("$upstream_pid")
  wait_for "http://127.0.0.1:$1/"
}

start_gateway() { # upstream-port, then KEY=VALUE environment
  local port=$1; shift
  bench_model_settings "$port" "$work/gateway.db"
  env "${bench_model[@]}" $gateway_env "$@" \
      dotnet "$gateway_dll" --urls "http://127.0.0.1:$gateway_port" >>"$work/gateway.log" 2>&1 &
  gateway_pid=$!
  pids+=("$gateway_pid")
  wait_for "http://127.0.0.1:$gateway_port/healthz"
}

echo "== upstream simulator: $tokens tokens, one every $token_delay_ms ms ($token_timer timer)" >&2
start_upstream $upstream_port "$tokens" "$token_delay_ms"

cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
worker_rlimit_nofile 19000;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 18000; }
http {
  access_log off;
  upstream simulator { server 127.0.0.1:$upstream_port; keepalive 1024; }
  server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    location / {
      proxy_pass http://simulator;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
NGINX
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
pids+=("$nginx_pid")
wait_for "http://127.0.0.1:$nginx_port/"
nginx_workers=$(pgrep -d, -P "$nginx_pid")

echo "== bare C# proxy" >&2
dotnet bench/BareProxy/bin/Release/net10.0/BareProxy.dll --port "$bare_port" --upstream "http://127.0.0.1:$upstream_port" &
bare_pid=$!
pids+=("$bare_pid")
wait_for "http://127.0.0.1:$bare_port/"

if [[ $peer == portkey ]]; then
  command -v node >/dev/null || { echo "--peer portkey needs Node.js" >&2; exit 1; }
  [[ -d bench/portkey/node_modules ]] || (cd bench/portkey && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
  echo "== Portkey's gateway (Node $(node --version))" >&2
  NODE_ENV=production node bench/portkey/node_modules/@portkey-ai/gateway/build/start-server.js --port=$portkey_port --headless \
    >"$work/portkey.log" 2>&1 &
  portkey_pid=$!
  pids+=("$portkey_pid")
  wait_for "http://127.0.0.1:$portkey_port/"
fi

echo "== gateway (Release) ${gateway_env:+with $gateway_env}" >&2
start_gateway $upstream_port DOTNET_STARTUP_HOOKS="$hook" BENCH_ALLOC_PORT=$alloc_port

# Flow runs through the gateway, one after another per client, until the stop file appears (each bounded by
# curl's timeout). A run answers with its record once every event, each token included, is in the store.
flow_body='{"flow":{"id":"bench-runs","nodes":[{"id":"in","type":"input"},{"id":"a","type":"llm","model":"bench","prompt":"in"},{"id":"b","type":"llm","model":"bench","prompt":"in"},{"id":"out","type":"output","from":["a","b"]}]},"input":"runs beside the streams"}'
start_flow_runs() { # clients
  rm -f "$work/flow-runs.stop" "$work"/flow-runs.out.*
  flow_pids=()
  for i in $(seq 1 "$1"); do
    (
      for _ in $(seq 1 100000); do
        [[ -e $work/flow-runs.stop ]] && break
        if curl -s -m 60 -H 'Content-Type: application/json' -d "$flow_body" "http://127.0.0.1:$gateway_port/api/runs" \
          | grep -q '"status":"completed"'; then echo completed; else echo failed; fi
      done >"$work/flow-runs.out.$i"
    ) &
    flow_pids+=($!); pids+=($!)
  done
}
stop_flow_runs() { # target concurrency
  touch "$work/flow-runs.stop"
  wait "${flow_pids[@]}"
  local completed failed
  completed=$(cat "$work"/flow-runs.out.* | grep -c '^completed$' || true)
  failed=$(cat "$work"/flow-runs.out.* | grep -c '^failed$' || true)
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$flow_runs" "$completed" "$failed" >>"$flow_results"
  echo "   flow runs beside $1 at concurrency $2: $completed completed, $failed failed ($((completed * 2 * tokens)) tokens stored)" >&2
}

targets="direct nginx bare-proxy gateway"; [[ $flow_runs -gt 0 ]] && targets+=" gateway+runs"; [[ -n $peer ]] && targets+=" $peer"
declare -A warmed=()
for c in $concurrency; do
  for target in $targets; do
    case $target in
      direct) url="http://127.0.0.1:$upstream_port/v1/chat/completions"; stats=();;
      nginx) url="http://127.0.0.1:$nginx_port/v1/chat/completions"; stats=(--pids "$nginx_workers");;
      bare-proxy) url="http://127.0.0.1:$bare_port/v1/chat/completions"; stats=(--pids "$bare_pid");;
      portkey) url="http://127.0.0.1:$portkey_port/v1/chat/completions"; stats=(--pids "$portkey_pid"
        --headers "x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$upstream_port/v1|Authorization: Bearer sk-bench");;
      gateway*) url="http://127.0.0.1:$gateway_port/v1/chat/completions"; stats=(--pids "$gateway_pid" --alloc-port $alloc_port);;
    esac
    # The full warm-up before a target's first cell; a short one to settle each new concurrency (the gateway is
    # warm by the time runs join it).
    w=$warmup; [[ -n "${warmed[$target]:-}" || $target == gateway+runs ]] && w=200
    warmed[$target]=1
    [[ $target == gateway+runs ]] && start_flow_runs "$flow_runs"
    "${load[@]}" run --target $target --url "$url" --concurrency "$c" --tokens "$tokens" --seconds "$seconds" \
      --min-streams "$min_streams" --warmup "$w" --out "$results" --settle-pids "$upstream_pid" "${stats[@]}"
    [[ $target == gateway+runs ]] && stop_flow_runs "$target" "$c"
  done
done

if [[ " $gateway_env " == *" BENCH_ALLOC_SAMPLE=1 "* ]]; then
  # The allocation sampler's tally since start-up (warm-ups included), most bytes first.
  if cat <"/dev/tcp/127.0.0.1/$alloc_port" >"$out/alloc-top.txt"; then
    echo "== allocation samples by type in $out/alloc-top.txt" >&2
  else
    echo "warning: the allocation hook did not answer on port $alloc_port" >&2
  fi
fi

if [[ $hold -eq 1 ]]; then
  echo "== memory run: $hold_streams streams of one token a second for 30 s, through a fresh gateway" >&2
  kill "$gateway_pid"; wait "$gateway_pid" 2>/dev/null || true
  start_upstream $slow_port 30 1000
  start_gateway $slow_port
  "${load[@]}" hold --target gateway --url "http://127.0.0.1:$gateway_port/v1/chat/completions" \
    --streams "$hold_streams" --tokens 30 --pids "$gateway_pid" --timeout-seconds 120 --out "$hold_results"
fi

echo "== results in $out (machine: $(nproc) cores, $(uname -r))" >&2
"${load[@]}" table --results "$results" --hold "$hold_results"
