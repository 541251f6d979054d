#!/usr/bin/env bash
# `pnpm bench`: prepares what the platform needs (as `npm test` does), then runs every benchmark scenario
# side by side with its floor and writes docs/benchmarks.md. Never part of `npm test`.
# Arguments go to bench/run.ts, e.g. `pnpm bench -- --only gateway --duration 5`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/ensure.sh

ensure_platform hexa_test
[[ ${1:-} == -- ]] && shift # pnpm passes the separator through
exec pnpm exec tsx bench/run.ts "$@"
