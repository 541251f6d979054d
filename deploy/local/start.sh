#!/usr/bin/env bash
# `npm start`: prepares pnpm, node_modules, PostgreSQL, Redis, the hexa database, the cluster of
# workspace databases and Docker,
# then hands over to the supervisor (deploy/local/run.ts), which runs every service.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/lib/ensure.sh

ensure_platform hexa
ensure_workspace_cluster
ensure_docker
# The platform's default run image (hexa/base-environment:latest), built locally: no registry is needed.
ensure_runner_images
# The gateway serves the console from its build (apps/console/dist).
pnpm console:build

exec pnpm exec tsx deploy/local/run.ts
