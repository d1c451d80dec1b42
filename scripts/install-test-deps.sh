#!/usr/bin/env bash
# Installs the tools the suite drives for real, only where they are missing. Debian packages need root
# (CI and the dev machines run as root); anything that cannot be installed fails here, loudly, not later.
set -euo pipefail

command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

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
  # Installed as tools, not as services: on a machine with an init system Debian starts each package's daemon as it
  # installs it (Prometheus on :9090, nginx on :80, PostgreSQL on :5432), which took those ports on a developer's
  # machine. The suite starts its own instances on free ports; policy-rc.d's 101 says "do not start".
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  # Nor at the next boot: the packages enable their services as they install.
  if command -v systemctl >/dev/null 2>&1; then
    for service in nginx prometheus postgresql; do
      if [[ " ${need_apt[*]} " == *" $service "* ]]; then
        systemctl disable --quiet "$service" 2>/dev/null || true
      fi
    done
  fi
fi

# The client tests use node --test's --test-concurrency and --test-timeout (Node 20.11). Debian 12's own nodejs is 18:
# said here, not as "bad option" halfway through the suite.
node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 11) ? 0 : 1)' \
  || { echo "error: Node.js 20.11 or later is required (found $(node --version)); install it from NodeSource or nvm" >&2; exit 1; }
