#!/usr/bin/env bash
# A real CKAN portal on loopback for the integration tests (and for manual use).
#
#   scripts/ckan-portal.sh install   # CKAN in its own venv (.ckan/venv-$CKAN_VERSION)
#   scripts/ckan-portal.sh start     # install if needed, then a fresh, empty portal
#   scripts/ckan-portal.sh stop      # stop CKAN, Redis, and PostgreSQL if we started it
#   scripts/ckan-portal.sh status    # exit 0 if the portal answers, 3 if not
#
# CKAN_VERSION selects the release (default 2.11.6; 2.12.0 works too).
# Apache Solr cannot be installed here, so the test-only plugin in tests/ckan_nosolr
# replaces CKAN's search index with a no-op: package_search finds nothing, everything
# else is real CKAN. See docs/testing.md and shared/reference/ckan-test-portal.md.
# The portal runs the DataStore (its own database, written by the portal's role and read by
# a read-only role, as CKAN's docs set it up) with datastore_search_sql enabled, and the
# datatables_view preview.
#
# All state lives under <repo>/.ckan/ (gitignored). After `start`, .ckan/env holds the
# OPENGOV_TEST_CKAN_* variables the tests read (`set -a; source .ckan/env; set +a`).
# The API token is only ever written to .ckan/token (mode 600), never printed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.ckan"
CKAN_VERSION="${CKAN_VERSION:-2.11.6}"
VENV="$STATE/venv-$CKAN_VERSION"
CKAN="$VENV/bin/ckan"
INI="$STATE/ckan.ini"
STORAGE="$STATE/storage"
REDIS_DIR="$STATE/redis"
RUN_FILE="$STATE/run"         # what `start` started, read by `stop`
ENV_FILE="$STATE/env"
TOKEN_FILE="$STATE/token"
INSTALL_LOG="$STATE/install.log"  # pip's output
SETUP_LOG="$STATE/setup.log"  # output of the ckan CLI commands during start
CKAN_LOG="$STATE/ckan.log"    # the CKAN web server

# One database and role per checkout, so two checkouts (git worktrees) on one machine can each
# run a portal on the shared PostgreSQL cluster without dropping each other's database.
CHECKOUT_ID="$(printf '%s' "$ROOT" | sha1sum | cut -c1-8)"
DB_NAME="${OPENGOV_CKAN_DB:-opengov_ckan_$CHECKOUT_ID}"
DB_ROLE="$DB_NAME"
# The DataStore: a database of its own, owned (and written) by the portal's role, and a role
# that can only read it (what datastore_search and datastore_search_sql connect as).
DS_DB_NAME="${DB_NAME}_datastore"
DS_RO_ROLE="${DB_NAME}_ro"
ADMIN=opengov-admin
ORG=testkommun
# curl: readiness polling; procps: pgrep/ps (absent from minimal Debian images).
APT_PACKAGES=(postgresql redis-server build-essential libpq-dev curl procps)

log() { printf '[ckan-portal] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# A random secret (letters and digits only, so it is safe in URLs and ini files).
random_secret() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }

# A TCP port on 127.0.0.1 that is free right now.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages this script needs, only if some are missing.
ensure_apt_packages() {
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    # Debian's own python3 cannot create a venv without python3-venv (no ensurepip).
    python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------------------------------
# install: CKAN and the no-Solr plugin in their own virtualenv (never the project's).
# ---------------------------------------------------------------------------------------
# pip's output (build back-end warnings included) goes to a log, shown only on failure.
quiet_pip() {
    if ! "$VENV/bin/pip" -q "$@" >>"$INSTALL_LOG" 2>&1; then
        tail -n 40 "$INSTALL_LOG" >&2
        die "pip $* failed; full output in $INSTALL_LOG"
    fi
}

cmd_install() {
    ensure_apt_packages
    mkdir -p "$STATE"
    # The stamp records the CKAN version and the checkout the plugin was installed
    # (editable) from: a re-clone elsewhere or an interrupted install starts over.
    local stamp="$VENV/.opengov-installed" want="$CKAN_VERSION $ROOT"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$CKAN" ]; then
        log "CKAN $CKAN_VERSION already installed in $VENV"
        return 0
    fi
    log "installing CKAN $CKAN_VERSION into $VENV (about a minute)"
    rm -rf "$VENV"
    : >"$INSTALL_LOG"
    python3 -m venv "$VENV"
    quiet_pip install --upgrade pip
    # Plain `pip install ckan` brings no dependencies: the pinned ones are an extra.
    quiet_pip install "ckan[requirements]==$CKAN_VERSION"
    quiet_pip install -e "$ROOT/tests/ckan_nosolr"
    # Fails early if the install is broken (the plugin imports ckan.plugins).
    "$VENV/bin/python" -c 'import opengov_ckan_nosolr' >>"$INSTALL_LOG" 2>&1 \
        || die "CKAN or the no-Solr plugin does not import; see $INSTALL_LOG"
    printf '%s\n' "$want" >"$stamp"
    log "CKAN $CKAN_VERSION installed"
}

# ---------------------------------------------------------------------------------------
# PostgreSQL: the machine's cluster, started only if it is down (and then stopped by us).
# ---------------------------------------------------------------------------------------
PG_VERSION="" PG_CLUSTER="" PG_PORT="" PG_STARTED=0  # PG_STARTED=1: ours to stop

start_postgres() {
    local line
    line="$(pg_lsclusters --no-header 2>/dev/null | head -n 1 || true)"
    if [ -z "$line" ]; then
        # The package normally creates a cluster; create one if it did not.
        local ver
        ver="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -n 1)"
        [ -n "$ver" ] || die "PostgreSQL is not installed"
        log "creating PostgreSQL $ver cluster 'main'"
        as_root pg_createcluster "$ver" main >>"$SETUP_LOG" 2>&1
        line="$(pg_lsclusters --no-header | head -n 1)"
    fi
    read -r PG_VERSION PG_CLUSTER PG_PORT _ <<<"$line"
    if ! pg_lsclusters --no-header "$PG_VERSION" "$PG_CLUSTER" | grep -q online; then
        log "starting PostgreSQL $PG_VERSION/$PG_CLUSTER"
        as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
        PG_STARTED=1
    fi
    save_run_state
}

# Clean databases on every start: the tests begin from an empty portal and an empty DataStore.
reset_database() {
    local password="$1" ro_password="$2"
    log "recreating databases $DB_NAME and $DS_DB_NAME"
    as_postgres psql -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres >>"$SETUP_LOG" 2>&1 <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_ROLE') THEN
    CREATE ROLE $DB_ROLE LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DS_RO_ROLE') THEN
    CREATE ROLE $DS_RO_ROLE LOGIN;
  END IF;
END\$\$;
ALTER ROLE $DB_ROLE LOGIN PASSWORD '$password';
ALTER ROLE $DS_RO_ROLE LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$ro_password';
DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE);
DROP DATABASE IF EXISTS $DS_DB_NAME WITH (FORCE);
SQL
    # template0 + UTF8: the cluster's default template may be SQL_ASCII in containers.
    as_postgres createdb -p "$PG_PORT" -O "$DB_ROLE" -T template0 -E UTF8 -l C.UTF-8 "$DB_NAME"
    as_postgres createdb -p "$PG_PORT" -O "$DB_ROLE" -T template0 -E UTF8 -l C.UTF-8 \
        "$DS_DB_NAME"
}

# The DataStore's grants, trigger function and table listing, as CKAN generates them for its
# configuration (run as the database superuser, connected to the DataStore database).
set_datastore_permissions() {
    log "setting DataStore permissions (read-only role $DS_RO_ROLE)"
    local sql
    sql="$("$CKAN" -c "$INI" datastore set-permissions 2>>"$SETUP_LOG")" \
        || die "ckan datastore set-permissions failed; see $SETUP_LOG"
    printf '%s\n' "$sql" | as_postgres psql -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres \
        >>"$SETUP_LOG" 2>&1 || die "applying the DataStore permissions failed; see $SETUP_LOG"
}

# ---------------------------------------------------------------------------------------
# Redis: our own daemon on a free loopback port, so it never clashes with another one.
# ---------------------------------------------------------------------------------------
REDIS_PORT="" REDIS_PID=""

start_redis() {
    REDIS_PORT="$(free_port)"
    mkdir -p "$REDIS_DIR"
    rm -f "$REDIS_DIR/redis.pid"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" \
        --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" \
        --logfile "$REDIS_DIR/redis.log" --save "" --appendonly no
    for _ in $(seq 50); do
        if [ -s "$REDIS_DIR/redis.pid" ] \
            && [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then
            REDIS_PID="$(cat "$REDIS_DIR/redis.pid")"
            save_run_state
            return 0
        fi
        sleep 0.1
    done
    die "Redis did not start; see $REDIS_DIR/redis.log"
}

# ---------------------------------------------------------------------------------------
# What was started, for `stop` (also after a failed start).
# ---------------------------------------------------------------------------------------
CKAN_PID="" CKAN_PORT=""

save_run_state() {
    cat >"$RUN_FILE" <<EOF
PG_VERSION=$PG_VERSION
PG_CLUSTER=$PG_CLUSTER
PG_STARTED=$PG_STARTED
REDIS_PORT=$REDIS_PORT
REDIS_PID=$REDIS_PID
CKAN_PID=$CKAN_PID
CKAN_PORT=$CKAN_PORT
EOF
}

# Run a ckan CLI command against our config, output to the setup log.
ckan_cli() { "$CKAN" -c "$INI" "$@" >>"$SETUP_LOG" 2>&1; }

write_config() {
    local db_password="$1" ro_password="$2"
    rm -f "$INI"
    "$CKAN" generate config "$INI" >>"$SETUP_LOG" 2>&1
    # site_url must be exactly the address clients use: upload URLs are built from it.
    "$CKAN" config-tool "$INI" \
        "sqlalchemy.url = postgresql://$DB_ROLE:$db_password@127.0.0.1:$PG_PORT/$DB_NAME" \
        "ckan.datastore.write_url = postgresql://$DB_ROLE:$db_password@127.0.0.1:$PG_PORT/$DS_DB_NAME" \
        "ckan.datastore.read_url = postgresql://$DS_RO_ROLE:$ro_password@127.0.0.1:$PG_PORT/$DS_DB_NAME" \
        "ckan.datastore.sqlsearch.enabled = true" \
        "ckan.site_url = http://127.0.0.1:$CKAN_PORT" \
        "ckan.site_id = opengov_test" \
        "ckan.redis.url = redis://127.0.0.1:$REDIS_PORT/0" \
        "ckan.storage_path = $STORAGE" \
        "ckan.plugins = activity datastore datatables_view opengov_nosolr" \
        "ckan.max_resource_size = 50" \
        "ckan.auth.anon_create_dataset = false" \
        "ckan.auth.create_unowned_dataset = false" \
        "ckan.auth.create_dataset_if_not_in_organization = false" \
        "ckan.auth.user_create_organizations = false" \
        "ckan.auth.public_user_details = false" \
        "debug = false" \
        >>"$SETUP_LOG" 2>&1
}

# POST a CKAN API action with the admin token; prints nothing (the token stays secret).
api_post() {
    local action="$1" body="$2"
    "$VENV/bin/python" - "$CKAN_PORT" "$TOKEN_FILE" "$action" "$body" <<'PY'
import json, sys, urllib.request
port, token_file, action, body = sys.argv[1:]
with open(token_file) as f:
    token = f.read().strip()
req = urllib.request.Request(
    f"http://127.0.0.1:{port}/api/3/action/{action}",
    data=body.encode(),
    headers={"Authorization": token, "Content-Type": "application/json"},
)
with urllib.request.urlopen(req, timeout=60) as resp:
    if not json.load(resp).get("success"):
        sys.exit(f"{action} failed")
PY
}

wait_for_ckan() {
    local url="http://127.0.0.1:$CKAN_PORT/api/3/action/status_show" deadline=$((SECONDS + 120))
    while [ "$SECONDS" -lt "$deadline" ]; do
        kill -0 "$CKAN_PID" 2>/dev/null || die "CKAN exited during start-up; see $CKAN_LOG"
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ]; then
            return 0
        fi
        sleep 0.5
    done
    die "CKAN did not answer $url within 120 s; see $CKAN_LOG"
}

START_OK=0
on_start_exit() {
    if [ "$START_OK" != 1 ]; then
        local f
        for f in "$SETUP_LOG" "$CKAN_LOG"; do
            [ -s "$f" ] || continue
            log "start failed; last lines of $f:"
            tail -n 30 "$f" >&2
        done
        cmd_stop || true
    fi
}

cmd_start() {
    local t0=$SECONDS
    cmd_install
    # A portal already running (maybe another CKAN version) is replaced by a fresh one.
    # PostgreSQL stays up meanwhile; if we had started it, we still own it.
    if [ -f "$RUN_FILE" ]; then
        PG_STARTED="$(sed -n 's/^PG_STARTED=//p' "$RUN_FILE")"
        KEEP_POSTGRES=1 cmd_stop
    fi
    trap on_start_exit EXIT
    : >"$SETUP_LOG"
    : >"$CKAN_LOG"
    rm -f "$ENV_FILE" "$TOKEN_FILE"

    start_postgres
    local db_password ro_password
    db_password="$(random_secret)"
    ro_password="$(random_secret)"
    reset_database "$db_password" "$ro_password"
    start_redis

    CKAN_PORT="$(free_port)"
    rm -rf "$STORAGE"
    mkdir -p "$STORAGE"
    write_config "$db_password" "$ro_password"
    chmod 600 "$INI"  # it holds the database password and CKAN's secrets

    log "initialising the CKAN $CKAN_VERSION database"
    ckan_cli db init
    # 2.11 leaves the activity plugin's migrations pending after `db init`.
    ckan_cli db pending-migrations --apply
    set_datastore_permissions

    log "creating sysadmin $ADMIN and its API token"
    ckan_cli user add "$ADMIN" "email=$ADMIN@example.invalid" "password=$(random_secret)"
    ckan_cli sysadmin add "$ADMIN"
    # The token is the last line of stdout; it goes straight into a 600 file.
    (
        umask 077
        "$CKAN" -c "$INI" user token add "$ADMIN" opengov-tests 2>>"$SETUP_LOG" \
            | tail -n 1 | tr -d '[:space:]' >"$TOKEN_FILE"
    )
    [ -s "$TOKEN_FILE" ] || die "no API token was created; see $SETUP_LOG"

    log "starting CKAN on http://127.0.0.1:$CKAN_PORT"
    # setsid: CKAN gets its own process group, so `stop` can end it with all children.
    setsid "$CKAN" -c "$INI" run --host 127.0.0.1 --port "$CKAN_PORT" \
        --disable-reloader --disable-debugger --threaded \
        >"$CKAN_LOG" 2>&1 </dev/null &
    CKAN_PID=$!
    save_run_state
    wait_for_ckan

    api_post organization_create "{\"name\": \"$ORG\", \"title\": \"Testkommun\"}"

    {
        printf 'OPENGOV_TEST_CKAN_URL=%q\n' "http://127.0.0.1:$CKAN_PORT"
        printf 'OPENGOV_TEST_CKAN_TOKEN_FILE=%q\n' "$TOKEN_FILE"
        printf 'OPENGOV_TEST_CKAN_ORG=%q\n' "$ORG"
        printf 'OPENGOV_TEST_CKAN_VERSION=%q\n' "$CKAN_VERSION"
        printf 'OPENGOV_TEST_CKAN_STORAGE=%q\n' "$STORAGE"
        printf 'OPENGOV_TEST_CKAN_INI=%q\n' "$INI"
        printf 'OPENGOV_TEST_CKAN_PYTHON=%q\n' "$VENV/bin/python"
    } >"$ENV_FILE"

    START_OK=1
    trap - EXIT
    log "CKAN $CKAN_VERSION is up at http://127.0.0.1:$CKAN_PORT ($((SECONDS - t0)) s);" \
        "use it with: set -a; source .ckan/env; set +a"
}

# ---------------------------------------------------------------------------------------
# stop: everything `start` started, and nothing else.
# ---------------------------------------------------------------------------------------
# End process group $1 (TERM, then KILL after ~10 s), but only if it still runs our
# CKAN: after a reboot the recorded id may belong to some other program.
end_ckan() {
    local pgid="$1"
    pgrep -g "$pgid" -f -- "$INI" >/dev/null 2>&1 || return 0
    log "stopping CKAN (process group $pgid)"
    kill -TERM -- "-$pgid" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 -- "-$pgid" 2>/dev/null || return 0
        sleep 0.1
    done
    log "CKAN did not stop on SIGTERM; killing it"
    kill -KILL -- "-$pgid" 2>/dev/null || true
}

# Shut down our Redis (same caution: check that the pid is still our redis-server).
end_redis() {
    local pid="$1" port="$2"
    [ -n "$pid" ] && [ -n "$port" ] || return 0
    ps -o args= -p "$pid" 2>/dev/null | grep -q "redis-server 127.0.0.1:$port" || return 0
    log "stopping Redis on port $port"
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
    rm -f "$ENV_FILE"
    if [ ! -f "$RUN_FILE" ]; then
        log "nothing to stop"
        return 0
    fi
    local PG_VERSION="" PG_CLUSTER="" PG_STARTED=0 REDIS_PORT="" REDIS_PID="" CKAN_PID=""
    # shellcheck disable=SC1090  # written by save_run_state
    source "$RUN_FILE"
    [ -z "$CKAN_PID" ] || end_ckan "$CKAN_PID"
    end_redis "$REDIS_PID" "$REDIS_PORT"
    if [ "$PG_STARTED" = 1 ] && [ -z "${KEEP_POSTGRES:-}" ] \
        && pg_lsclusters --no-header "$PG_VERSION" "$PG_CLUSTER" 2>/dev/null | grep -q online; then
        log "stopping PostgreSQL $PG_VERSION/$PG_CLUSTER (this script started it)"
        as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" stop || true
    fi
    rm -f "$RUN_FILE" "$TOKEN_FILE"
}

cmd_status() {
    if [ ! -f "$ENV_FILE" ]; then
        echo "CKAN portal: not running"
        return 3
    fi
    local OPENGOV_TEST_CKAN_URL="" OPENGOV_TEST_CKAN_VERSION=""
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    if curl -sf -o /dev/null "$OPENGOV_TEST_CKAN_URL/api/3/action/status_show"; then
        echo "CKAN portal: running, CKAN $OPENGOV_TEST_CKAN_VERSION at $OPENGOV_TEST_CKAN_URL"
        return 0
    fi
    echo "CKAN portal: not answering at $OPENGOV_TEST_CKAN_URL (see $CKAN_LOG)"
    return 3
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 {install|start|stop|status}   (CKAN_VERSION=$CKAN_VERSION)" >&2
        exit 2
        ;;
esac
