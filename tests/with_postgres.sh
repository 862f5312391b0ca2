#!/usr/bin/env bash
# Usage: tests/with_postgres.sh CMD [ARGS...]
#
# Starts a throwaway PostgreSQL server (15 preferred) on a free loopback port,
# runs CMD with
#   DATABASE_URL=postgresql+psycopg://app_web@127.0.0.1:PORT/app_test   (the app: owns no table)
#   DATABASE_OWNER_URL=postgresql+psycopg://app@127.0.0.1:PORT/app_test (the owner: migrations)
#   DATABASE_PLATFORM_ROLE=app_platform
#   PGTEST_PORT=PORT
# exported, then stops the server and deletes its files (also on failure or
# Ctrl-C). Exits with CMD's exit code.
set -euo pipefail

die() { echo "with_postgres: $*" >&2; exit 1; }
log() { echo "with_postgres: $*" >&2; }

[[ $# -ge 1 ]] || die "usage: $0 CMD [ARGS...]"

# --- find the server binaries ------------------------------------------------
find_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then echo "$d"; return 0; fi
    fi
    if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
        echo /usr/lib/postgresql/15/bin; return 0
    fi
    # Any other version, highest first.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -rn); do
        if [[ -x $d/initdb && -x $d/pg_ctl ]]; then echo "$d"; return 0; fi
    done
    return 1
}

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

if ! BINDIR=$(find_bindir); then
    if [[ $IS_ROOT -eq 1 ]] && command -v apt-get >/dev/null 2>&1; then
        log "PostgreSQL server not found; installing it with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq postgresql-15 || apt-get install -y -qq postgresql
    fi
    BINDIR=$(find_bindir) || die "no PostgreSQL server binaries (initdb, pg_ctl) found;
  install PostgreSQL 15 (Debian: apt-get install postgresql-15) or put pg_config on PATH"
fi

# --- run server tools as a non-root user ------------------------------------
# PostgreSQL refuses to run as root, so as root we use the 'postgres' user.
if [[ $IS_ROOT -eq 1 ]]; then
    if ! id -u postgres >/dev/null 2>&1; then
        log "creating system user 'postgres'"
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    # /tmp (not $TMPDIR) so the postgres user can surely reach it; short path
    # also keeps the unix socket path under its length limit.
    PGTMP=$(mktemp -d /tmp/pgtest.XXXXXX)
    chown postgres: "$PGTMP"
    as_pg() { (cd "$PGTMP" && runuser -u postgres -- "$@"); }
else
    PGTMP=$(mktemp -d "${TMPDIR:-/tmp}/pgtest.XXXXXX")
    as_pg() { (cd "$PGTMP" && "$@"); }
fi
DATA=$PGTMP/data
LOG=$PGTMP/log

cleanup() {
    local rc=$?
    set +e
    if [[ -f $DATA/postmaster.pid ]]; then
        if ! as_pg "$BINDIR/pg_ctl" -D "$DATA" -m fast -t 30 -w stop >/dev/null 2>&1; then
            as_pg "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1
        fi
        # Last resort: the postmaster's pid is the first line of postmaster.pid.
        if [[ -f $DATA/postmaster.pid ]]; then
            local pid
            pid=$(head -n1 "$DATA/postmaster.pid" 2>/dev/null)
            [[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null
        fi
    fi
    rm -rf "$PGTMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Keep the caller's libpq settings from leaking into the server tools.
unset PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGDATA PGSERVICE PGOPTIONS

# --- initdb -------------------------------------------------------------------
initdb_with_locale() {
    rm -rf "$DATA"
    as_pg "$BINDIR/initdb" -D "$DATA" -A trust -U app --encoding=UTF8 "--locale=$1" \
        >"$PGTMP/initdb.log" 2>&1
}
if ! initdb_with_locale C.UTF-8; then
    log "initdb with --locale=C.UTF-8 failed; retrying with --locale=C"
    if ! initdb_with_locale C; then
        cat "$PGTMP/initdb.log" >&2
        die "initdb failed"
    fi
fi

# --- start on a free loopback port --------------------------------------------
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# pg_stat_statements (Debian's server package has it) lets `make bench` read the database's own time per page
# as the app really runs it (prepared plans included); missing, the benchmark falls back to EXPLAIN ANALYZE.
EXTRA_OPTS=""
if [[ -f "$(dirname "$BINDIR")/lib/pg_stat_statements.so" ]]; then
    EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"
fi

started=0
for attempt in 1 2 3; do
    PORT=$(free_port)
    rm -f "$LOG"
    if as_pg "$BINDIR/pg_ctl" -w -t 60 -D "$DATA" -l "$LOG" \
        -o "-p $PORT -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off $EXTRA_OPTS" \
        start >/dev/null; then
        started=1
        break
    fi
    # Another process may have grabbed the port in between: try another one.
    log "server failed to start on port $PORT (attempt $attempt); log:"
    cat "$LOG" >&2 2>/dev/null || true
    as_pg "$BINDIR/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
done
[[ $started -eq 1 ]] || die "could not start PostgreSQL (binaries: $BINDIR)"

if ! "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U app app_test; then
    cat "$LOG" >&2 2>/dev/null || true
    die "createdb app_test failed"
fi

# As in production: `app` owns the tables and runs migrations; the app connects as app_web, which owns nothing
# (so row-level security binds it) and may switch to app_platform only for platform-wide work.
if ! "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U app -d app_test >/dev/null <<'SQL'
CREATE ROLE app_web LOGIN NOINHERIT;
CREATE ROLE app_platform NOLOGIN;
GRANT app_platform TO app_web;
ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app_web, app_platform;
ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO app_web, app_platform;
SQL
then
    die "creating the roles app_web and app_platform failed"
fi

export DATABASE_URL="postgresql+psycopg://app_web@127.0.0.1:$PORT/app_test"
export DATABASE_OWNER_URL="postgresql+psycopg://app@127.0.0.1:$PORT/app_test"
export DATABASE_PLATFORM_ROLE=app_platform
export PGTEST_PORT=$PORT
log "PostgreSQL $("$BINDIR/postgres" --version | sed -E 's/^[^0-9]*([0-9.]+).*/\1/') on 127.0.0.1:$PORT (DATABASE_URL=$DATABASE_URL)"

# --- run the command ----------------------------------------------------------
# CMD runs in the background (with our stdin) and we wait for it, so that a
# TERM/HUP sent to this script is passed on to CMD right away rather than after
# CMD ends. Ctrl-C reaches CMD directly from the terminal (same process group),
# so INT is not forwarded again; we just keep waiting for CMD to finish.
# (A background job would start with INT/QUIT ignored; the subshell restores them.)
set +e
( trap - INT QUIT; exec "$@" ) <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -HUP "$child" 2>/dev/null' HUP
trap ':' INT
while :; do
    wait "$child"
    rc=$?
    kill -0 "$child" 2>/dev/null || break   # CMD done: rc is its exit code
done
exit "$rc"
