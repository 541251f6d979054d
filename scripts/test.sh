#!/usr/bin/env bash
# `npm test`: prepares what the tests need (pnpm, node_modules, PostgreSQL, Redis,
# the hexa_test database, the cluster of workspace databases, Docker and the default run image), then runs the checks in order and stops at the first failure.
# Extra arguments go to Jest, e.g. `npm test -- services/gateway`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/ensure.sh

ensure_platform hexa_test
ensure_faults_cluster
ensure_chromium
# Runs start containers on the real Docker engine, from the default run image built here.
ensure_docker
ensure_runner_images

# Defaults point at the local services started above; set them to use others.
# TEST_DATABASE_URL is a superuser: the harness provisions the services' test roles
# (hexa_test_<service>) with it, and each service under test logs in as its own role.
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hexa_test}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

# The workspace databases' cluster (password logins over TCP, so that credentials are really checked).
# Its superuser is reached through the socket; the tests set up their admin login with it.
ensure_workspace_cluster
export TEST_WORKSPACE_DB_SUPERUSER_URL="${TEST_WORKSPACE_DB_SUPERUSER_URL:-postgres://postgres@localhost:$HEXA_WORKSPACE_PG_PORT/postgres?host=/var/run/postgresql}"
export TEST_WORKSPACE_DB_ADMIN_URL="${TEST_WORKSPACE_DB_ADMIN_URL:-postgres://hexa_test_workspace_admin:hexa-test-workspace-admin@127.0.0.1:$HEXA_WORKSPACE_PG_PORT/postgres}"

pnpm contract:check
pnpm typecheck
# The console: its own typecheck (vue-tsc for the single-file components), then the build that
# the gateway serves and the browser tests open.
pnpm --filter @hexa/console typecheck
pnpm console:build
pnpm test:jest "$@"
