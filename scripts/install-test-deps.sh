#!/usr/bin/env bash
# Installs the tools the suite drives for real, only where they are missing. Debian packages need root
# (CI and the dev machines run as root); anything that cannot be installed fails here, loudly, not later.
set -euo pipefail

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need_apt+=(nginx)
# promtool lints /metrics, and a real Prometheus scrapes the gateway in the telemetry tests.
{ command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; } || need_apt+=(prometheus)
# The browser the EventSource test drives through playwright-core (tests/clients/browser.test.mjs).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# A real PostgreSQL for the store suite (tests/Gateway.Tests/Infrastructure/PostgresServer.cs runs its own server).
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || need_apt+=(postgresql)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: need root to install ${need_apt[*]} (or install them yourself)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
