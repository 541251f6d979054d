# shellcheck shell=bash
# Idempotent set-up helpers shared by scripts/test.sh and deploy/local/start.sh.
# Source this file, then call the ensure_* functions. Each one is silent when
# there is nothing to do and logs "[hexa] ..." lines to stderr when it acts.
# Also runnable directly for one-off use: bash scripts/lib/ensure.sh ensure_database hexa
#
# These functions do not change the caller's shell options; they are written
# to behave under `set -euo pipefail` as well as without it.

HEXA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HEXA_PNPM_VERSION=12.4.2 # newer pnpm releases may refuse this lockfile
HEXA_PG_HOST=127.0.0.1
HEXA_PG_PORT=5432
HEXA_REDIS_PORT=6379

hexa_log() { printf '[hexa] %s\n' "$*" >&2; }
hexa_die() { hexa_log "error: $*"; return 1; }

# Runs a command as root: directly when we are root (CI, these machines), via sudo otherwise.
_hexa_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else hexa_die "need root to run: $*"
  fi
}

# Runs a command as the postgres OS user, which may connect over the Unix socket (peer auth).
_hexa_as_postgres() {
  if [[ $(id -un) == postgres ]]; then "$@"
  elif [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"
  else sudo -u postgres -- "$@"
  fi
}

# apt-get update costs seconds and needs the network, so it runs at most once per script run.
_hexa_apt_install() {
  if [[ -z ${_HEXA_APT_UPDATED:-} ]]; then
    hexa_log "apt-get update"
    _hexa_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    _HEXA_APT_UPDATED=1
  fi
  hexa_log "apt-get install $*"
  _hexa_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}

# Polls "$@" once a second until it succeeds or TIMEOUT seconds have passed.
_hexa_wait_for() {
  local what=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      hexa_die "$what not ready after ${timeout}s"
      return 1
    fi
    sleep 1
  done
}

ensure_pnpm() {
  if ! command -v pnpm >/dev/null 2>&1; then
    hexa_log "installing pnpm@$HEXA_PNPM_VERSION"
    npm i -g "pnpm@$HEXA_PNPM_VERSION" >&2
  fi
}

# Cheap check first: pnpm writes node_modules/.modules.yaml when it installs, so
# if it is newer than the lockfile, the workspace file and every package.json,
# nothing changed since the last install and pnpm need not start at all.
_hexa_node_modules_stale() {
  local stamp=$1
  [[ -f $stamp ]] || return 0
  [[ $HEXA_ROOT/pnpm-lock.yaml -nt $stamp ]] && return 0
  [[ $HEXA_ROOT/pnpm-workspace.yaml -nt $stamp ]] && return 0
  local newer
  # If find itself fails, treat node_modules as stale: an extra install is harmless.
  newer=$(find "$HEXA_ROOT" -name node_modules -prune -o -name .git -prune -o \
    -name package.json -newer "$stamp" -print -quit 2>/dev/null) || return 0
  [[ -n $newer ]]
}

ensure_node_modules() {
  local stamp="$HEXA_ROOT/node_modules/.modules.yaml"
  if _hexa_node_modules_stale "$stamp"; then
    hexa_log "pnpm install --frozen-lockfile"
    (cd "$HEXA_ROOT" && pnpm install --frozen-lockfile >&2)
    # A no-op install may leave the file untouched; touch it so the cheap check settles.
    touch "$stamp"
  fi
}

# shellcheck disable=SC2012 # version folders have plain names
_hexa_pg_version() {
  # Newest configured cluster version, else the newest installed server.
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  [[ -n $version ]] || version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
  [[ -n $version ]] || { hexa_die "no PostgreSQL server installed"; return 1; }
  printf '%s\n' "$version"
}

_hexa_pg_ready() { pg_isready -q -h "$HEXA_PG_HOST" -p "$HEXA_PG_PORT"; }

# True when the postgres superuser logs in over TCP without a password (-w never prompts).
_hexa_pg_tcp_trusted() {
  psql -X -w -h "$HEXA_PG_HOST" -p "$HEXA_PG_PORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

_hexa_psql() {
  psql -X -w -v ON_ERROR_STOP=1 -h "$HEXA_PG_HOST" -p "$HEXA_PG_PORT" -U postgres -d postgres -Atq "$@"
}

ensure_postgres() {
  if ! command -v pg_lsclusters >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
    _hexa_apt_install postgresql
  fi

  if ! pg_lsclusters --no-header 2>/dev/null | awk '$4 ~ /^online/ { found = 1 } END { exit !found }'; then
    local version
    version=$(_hexa_pg_version) || return 1
    if [[ ! -d /etc/postgresql/$version/main ]]; then
      hexa_log "creating PostgreSQL $version cluster main"
      _hexa_root pg_createcluster "$version" main >&2
    fi
    hexa_log "starting PostgreSQL $version cluster main"
    # --skip-systemctl-redirect: these machines (and CI containers) run without systemd.
    _hexa_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2
  fi
  _hexa_wait_for "PostgreSQL on $HEXA_PG_HOST:$HEXA_PG_PORT" 60 _hexa_pg_ready || return 1

  if ! _hexa_pg_tcp_trusted; then
    # DEVELOPMENT ONLY. A stock Debian install asks for a password over TCP, but the
    # set-up, provisioning (npm start) and the test harness connect as the superuser
    # postgres://postgres@127.0.0.1:5432/<db> without one. Trust the postgres user from
    # loopback only; the services' own roles keep their passwords (Debian's scram-sha-256
    # lines still apply to them). Never do this on a shared or production host.
    # Documented in README.md and docs/operations.md (how to undo it).
    local hba
    hba=$(_hexa_as_postgres psql -X -p "$HEXA_PG_PORT" -Atqc 'show hba_file') || { hexa_die "cannot reach PostgreSQL over its socket"; return 1; }
    if ! grep -q '^# hexa: development only' "$hba"; then
      hexa_log "allowing password-less TCP logins for postgres from loopback in $hba (development only)"
      # pg_hba.conf is first-match, so the lines go at the very top.
      _hexa_root sed -i "1i # hexa: development only: password-less postgres over loopback (added by scripts/lib/ensure.sh)\\
host all postgres 127.0.0.1/32 trust\\
host all postgres ::1/128 trust" "$hba"
    fi
    _hexa_as_postgres psql -X -p "$HEXA_PG_PORT" -Atqc 'select pg_reload_conf()' >/dev/null
    _hexa_wait_for "password-less TCP login as postgres" 10 _hexa_pg_tcp_trusted || return 1
  fi
}

ensure_database() {
  local name=${1:?usage: ensure_database NAME}
  # The name is interpolated into SQL, so accept plain identifiers only.
  [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || { hexa_die "invalid database name: $name"; return 1; }
  if [[ $(_hexa_psql -c "select 1 from pg_database where datname = '$name'") != 1 ]]; then
    hexa_log "creating database $name"
    _hexa_psql -c "create database \"$name\"" >/dev/null
  fi
}

# The cluster that hosts the workspaces' databases (the databases service provisions them). Its own
# cluster, because the main one trusts every local connection: here TCP logins need their password
# (scram-sha-256), as on the separate server a production deployment uses, so credentials are really
# checked. The Unix socket trusts local users (development only): `npm start` and the tests provision the
# platform's admin role (CREATEDB CREATEROLE, not a superuser) through it, as postgres.
HEXA_WORKSPACE_CLUSTER=hexa_workspaces
HEXA_WORKSPACE_PG_PORT=${HEXA_WORKSPACE_PG_PORT:-5433}

_hexa_workspace_cluster_ready() { pg_isready -q -h "$HEXA_PG_HOST" -p "$HEXA_WORKSPACE_PG_PORT"; }

ensure_workspace_cluster() {
  [[ $HEXA_WORKSPACE_PG_PORT =~ ^[0-9]{1,5}$ ]] || { hexa_die "invalid HEXA_WORKSPACE_PG_PORT: $HEXA_WORKSPACE_PG_PORT"; return 1; }
  local version
  version=$(_hexa_pg_version) || return 1
  if ! pg_lsclusters --no-header 2>/dev/null | awk -v name="$HEXA_WORKSPACE_CLUSTER" '$2 == name { found = 1 } END { exit !found }'; then
    # Someone else's server on that port would receive our logins: refuse rather than guess.
    if _hexa_workspace_cluster_ready; then
      hexa_die "port $HEXA_WORKSPACE_PG_PORT is taken by another PostgreSQL; set HEXA_WORKSPACE_PG_PORT to a free port"
      return 1
    fi
    hexa_log "creating PostgreSQL $version cluster $HEXA_WORKSPACE_CLUSTER on port $HEXA_WORKSPACE_PG_PORT (workspace databases; password logins over TCP)"
    _hexa_root pg_createcluster "$version" "$HEXA_WORKSPACE_CLUSTER" --port "$HEXA_WORKSPACE_PG_PORT" -- --auth-host=scram-sha-256 --auth-local=trust >&2
  fi
  if ! _hexa_workspace_cluster_ready; then
    hexa_log "starting PostgreSQL $version cluster $HEXA_WORKSPACE_CLUSTER"
    _hexa_root pg_ctlcluster --skip-systemctl-redirect "$version" "$HEXA_WORKSPACE_CLUSTER" start >&2
  fi
  _hexa_wait_for "PostgreSQL cluster $HEXA_WORKSPACE_CLUSTER on port $HEXA_WORKSPACE_PG_PORT" 60 _hexa_workspace_cluster_ready
}

_hexa_redis_pong() { [[ $(redis-cli -h 127.0.0.1 -p "$HEXA_REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

ensure_redis() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    _hexa_apt_install redis-server
  fi
  if ! _hexa_redis_pong; then
    hexa_log "starting redis-server on 127.0.0.1:$HEXA_REDIS_PORT"
    # Nothing is persisted: queues and caches are disposable in development and tests.
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$HEXA_REDIS_PORT" --save "" --appendonly no >&2
  fi
  _hexa_wait_for "Redis on 127.0.0.1:$HEXA_REDIS_PORT" 30 _hexa_redis_pong
}

# Docker runs workspace code (the runner). Debian's docker.io package; where systemd
# runs, it starts the daemon; without systemd (containers, CI) we start dockerd ourselves.
_hexa_docker() { if [[ -x /usr/bin/docker ]]; then /usr/bin/docker "$@"; else docker "$@"; fi; }
_hexa_docker_up() { _hexa_docker info >/dev/null 2>&1; }

ensure_docker() {
  if ! command -v dockerd >/dev/null 2>&1; then
    _hexa_apt_install docker.io
  fi
  if ! _hexa_docker_up; then
    if [[ -d /run/systemd/system ]]; then
      hexa_log "starting docker (systemctl)"
      _hexa_root systemctl start docker >&2
    else
      # vfs works on every filesystem, including inside containers where overlayfs does not.
      local driver=${HEXA_DOCKER_STORAGE_DRIVER:-vfs} log=/var/log/hexa-dockerd.log
      hexa_log "starting dockerd (storage driver $driver, log $log)"
      _hexa_root sh -c "nohup setsid dockerd --storage-driver='$driver' >>'$log' 2>&1 &"
    fi
  fi
  _hexa_wait_for "Docker engine" 60 _hexa_docker_up
}

# The platform's default run image, built here without a registry (none is reachable on these machines):
# Debian's busybox-static imported into a scratch image, with the applets as links, the user hexa (uid
# 1000) and its workspace folder. Runs use it when a workspace names no image (HEXA_DEFAULT_IMAGE).
# HEXA_BASE_IMAGE names it; a rebuild happens only when the image is missing.
HEXA_BASE_IMAGE=${HEXA_BASE_IMAGE:-hexa/base-environment:latest}

ensure_runner_images() {
  if _hexa_docker image inspect "$HEXA_BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  if [[ ! -x /bin/busybox ]]; then _hexa_apt_install busybox-static; fi
  hexa_log "building $HEXA_BASE_IMAGE from Debian's busybox-static (docker import)"
  local dir
  dir=$(mktemp -d)
  chmod 755 "$dir"
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc" "$dir/home/hexa/workspace" "$dir/root"
  cp /bin/busybox "$dir/bin/busybox"
  local applet
  for applet in sh ash env echo cat sleep wget ls printf grep sed awk head tail true false test id mkdir rm cp mv touch wc tr cut sort date dd yes seq kill ps uname hostname nc vi; do
    ln -s busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nhexa:x:1000:1000:hexa:/home/hexa:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nhexa:x:1000:\n' >"$dir/etc/group"
  chmod 1777 "$dir/tmp"
  chown -R 1000:1000 "$dir/home/hexa"
  tar -C "$dir" -c . | _hexa_docker import \
    -c 'ENV PATH=/bin HOME=/home/hexa' -c 'USER 1000:1000' -c 'WORKDIR /home/hexa/workspace' -c 'CMD ["sh"]' \
    - "$HEXA_BASE_IMAGE" >/dev/null
  rm -rf "$dir"
}

# A PostgreSQL cluster of its own for the fault tests, which restart it under load: restarting the
# main cluster would disturb every other test (and whatever else uses it). Trust authentication on
# loopback only; it holds nothing but test data.
HEXA_FAULTS_CLUSTER=hexa_faults
HEXA_FAULTS_PORT=5434

ensure_faults_cluster() {
  local version
  version=$(_hexa_pg_version) || return 1
  if ! pg_lsclusters --no-header 2>/dev/null | awk -v name="$HEXA_FAULTS_CLUSTER" '$2 == name { found = 1 } END { exit !found }'; then
    hexa_log "creating PostgreSQL $version cluster $HEXA_FAULTS_CLUSTER on port $HEXA_FAULTS_PORT (fault tests)"
    _hexa_root pg_createcluster "$version" "$HEXA_FAULTS_CLUSTER" --port "$HEXA_FAULTS_PORT" -- --auth-local=trust --auth-host=trust >&2
  fi
  if ! pg_isready -q -h "$HEXA_PG_HOST" -p "$HEXA_FAULTS_PORT"; then
    _hexa_root pg_ctlcluster --skip-systemctl-redirect "$version" "$HEXA_FAULTS_CLUSTER" start >&2 || true
  fi
  _hexa_wait_for "PostgreSQL cluster $HEXA_FAULTS_CLUSTER" 60 pg_isready -q -h "$HEXA_PG_HOST" -p "$HEXA_FAULTS_PORT" || return 1
  export TEST_FAULTS_DATABASE_URL="postgres://postgres@$HEXA_PG_HOST:$HEXA_FAULTS_PORT/postgres"
  export TEST_FAULTS_CLUSTER="$version $HEXA_FAULTS_CLUSTER"
}

# The console's browser tests drive Debian's Chromium through playwright-core (which cannot
# download a browser here). HEXA_CHROMIUM names another binary; the tests read the same variable.
ensure_chromium() {
  local binary=${HEXA_CHROMIUM:-/usr/bin/chromium}
  if [[ ! -x $binary ]]; then
    [[ $binary == /usr/bin/chromium ]] || { hexa_die "HEXA_CHROMIUM=$binary is not an executable"; return 1; }
    _hexa_apt_install chromium
  fi
}

# What both `npm start` and `npm test` need before any code runs.
ensure_platform() {
  local database=${1:?usage: ensure_platform DATABASE}
  ensure_pnpm
  ensure_node_modules
  ensure_postgres
  ensure_redis
  ensure_database "$database"
}

# Executed rather than sourced: run the named ensure_* functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  [[ ${1:-} == ensure_* ]] || { echo "usage: bash $0 ensure_FUNCTION [ARGS]" >&2; exit 2; }
  "$@"
fi
