#!/usr/bin/env bash
# Run events stored per second by the PostgreSQL run store, with 1, 8 and 28 runs writing at once: the NOTIFY in
# each event's transaction (the store until 2026-12-05) against the notice sent after the commit (the store now).
# Starts its own PostgreSQL on 127.0.0.1 with the server's default durability (fsync and synchronous_commit on: a
# commit waits for the disk, as in production; the test suite's server has both off), and stops it at the end.
#
#   bench/run-events.sh [--rounds 3] [--events 300] [--port 19460]
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3; events=300; port=19460
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2;;
    --events) events=$2; shift 2;;
    --port) port=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL's server is not installed (apt-get install postgresql)" >&2; exit 1; }
work=$(mktemp -d /tmp/gateway-run-events.XXXXXX)
as_owner=()
if [ "$(id -u)" = 0 ]; then chown postgres "$work"; as_owner=(runuser -u postgres --); fi
stop() { "${as_owner[@]}" "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap stop EXIT

"${as_owner[@]}" "$bin/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
"${as_owner[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/postgres.log" -w -t 60 \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1" start >/dev/null

dotnet build bench/RunEvents -c Release --nologo -warnaserror -v quiet >/dev/null
dotnet bench/RunEvents/bin/Release/net10.0/RunEvents.dll \
  --server "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres" --rounds "$rounds" --events "$events"
