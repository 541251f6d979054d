#!/usr/bin/env bash
# `npm start`: prepares pnpm, node_modules, PostgreSQL, Redis and the hexa database,
# then hands over to the supervisor (deploy/local/run.ts), which runs every service.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/lib/ensure.sh

ensure_pnpm
ensure_node_modules
ensure_postgres
ensure_redis
ensure_database hexa

exec pnpm exec tsx deploy/local/run.ts
