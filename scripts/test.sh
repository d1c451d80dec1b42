#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what it needs, builds once, runs the .NET tests and
# the end-to-end checks with real third-party clients. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

echo "== build"
dotnet build Gateway.sln -c Release --nologo -warnaserror

echo "== .NET tests"
dotnet test Gateway.sln -c Release --no-build --nologo

echo "== real clients (tests/clients)"
(cd tests/clients && npm ci --no-audit --no-fund && GATEWAY_CONFIGURATION=Release npm test)
