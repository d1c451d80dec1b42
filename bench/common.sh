# Sourced by bench/run.sh, bench/pair.sh, bench/legs.sh and bench/profile.sh: what they need to start and reach the
# processes they measure.

wait_for() { # url
  for _ in $(seq 1 100); do curl -s --max-time 2 -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "nothing answers at $1" >&2; exit 1
}

# Sets the array bench_model to the settings that make model `bench` the simulator on 127.0.0.1:PORT, and a
# gateway's store a SQLite file at DB: `env "${bench_model[@]}" dotnet Gateway.dll &` (env execs, so $! is the
# gateway's own PID, which the scripts measure and end).
bench_model_settings() { # port db
  bench_model=(
    Gateway__Providers__bench__Type=openai
    "Gateway__Providers__bench__BaseUrl=http://127.0.0.1:$1/v1"
    Gateway__Providers__bench__ApiKey=bench-key
    Gateway__Models__bench__Deployments__0__Provider=bench
    Gateway__Models__bench__Deployments__0__Model=sim
    "Gateway__Storage__ConnectionString=Data Source=$2"
  )
}

# Starts the gateway DLL on 127.0.0.1:PORT with model `bench` on the simulator at SIMULATOR_PORT, its store at DB, its
# output in LOG and ENVIRONMENT ("K=V ...") added; sets gateway_pid, the gateway's own PID (env execs).
start_bench_gateway() { # dll port simulator-port db log environment
  local environment pair
  read -ra environment <<<"$6"
  for pair in "${environment[@]}"; do
    [[ $pair == *=* ]] || { echo "not KEY=VALUE: $pair" >&2; exit 2; }
  done
  bench_model_settings "$3" "$4"
  env "${bench_model[@]}" "${environment[@]}" dotnet "$1" --urls "http://127.0.0.1:$2" >"$5" 2>&1 &
  gateway_pid=$!
}

# For the scripts that run perf (legs.sh, profile.sh): checks for perf and root (WHY says what root is needed for),
# makes the work folder $work (/tmp/gateway-NAME.XXXXXX) and, on exit, ends the processes in the array pids by PID and
# says where the logs are if the script failed.
perf_work_folder() { # name why
  command -v perf >/dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 1; }
  [ "$(id -u)" -eq 0 ] || { echo "perf needs root here $2" >&2; exit 1; }
  work=$(mktemp -d "/tmp/gateway-$1.XXXXXX")
  pids=()
  trap end_perf_work EXIT
}
end_perf_work() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "$status" -eq 0 ] || echo "failed; logs in $work" >&2
}
