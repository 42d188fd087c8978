#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the SQL loader's tests.
#
#   tests/setup/postgres.sh [start]   install if needed, start, print the URL on stdout
#   tests/setup/postgres.sh stop      stop the server started in QBE_PG_DIR
#
# Only the URL is printed on standard output (postgresql+psycopg://qbe@127.0.0.1:PORT/qbe);
# progress and errors go to standard error, and a failure exits non-zero with the
# reason. Starting twice with the same QBE_PG_DIR reuses the running server.
#
# Settings (environment):
#   QBE_PG_DIR         folder for the cluster, its log and its socket (default /tmp/qbe-postgres)
#   QBE_PG_PORT        port (default: a free one)
#   QBE_PG_NO_INSTALL  1: never run apt-get (the tests set this)
#
# PostgreSQL refuses to run as root: as root, the server runs as the "postgres" user
# (created by Debian's package) or, failing that, as a system user "qbe-pg" created here.
# Authentication is "trust" on 127.0.0.1 only: it is a test server, not for data.
set -euo pipefail

ACTION="${1:-start}"
BASE="${QBE_PG_DIR:-/tmp/qbe-postgres}"
DATA="$BASE/data"
LOG="$BASE/server.log"
DB_USER=qbe
DB_NAME=qbe

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

find_bin() {  # newest PostgreSQL's bin folder holding initdb and pg_ctl
    local dir
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

install_postgres() {
    [ "${QBE_PG_NO_INSTALL:-0}" = 1 ] && return 1
    [ "$(id -u)" = 0 ] || { say "not root: cannot apt-get install postgresql"; return 1; }
    command -v apt-get >/dev/null 2>&1 || { say "no apt-get on this machine"; return 1; }
    say "installing PostgreSQL (apt-get install -y postgresql) …"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql >&2; }
}

os_user() {  # the account the server runs as
    if [ "$(id -u)" != 0 ]; then
        id -un
    elif id postgres >/dev/null 2>&1; then
        echo postgres
    else
        id qbe-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin qbe-pg >&2 \
            || die "cannot create a user to run PostgreSQL as (root may not run it)"
        echo qbe-pg
    fi
}

as_user() {  # run a command as the server's account
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$RUN_AS" -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

url() { echo "postgresql+psycopg://$DB_USER@127.0.0.1:$1/$DB_NAME"; }

BIN="$(find_bin || true)"
if [ "$ACTION" = stop ]; then
    [ -n "$BIN" ] || die "no PostgreSQL binaries found"
    [ -d "$DATA" ] || exit 0
    RUN_AS="$(os_user)"
    as_user "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2 || true
    exit 0
fi
[ "$ACTION" = start ] || die "unknown action '$ACTION' (use start or stop)"

if [ -z "$BIN" ]; then
    install_postgres || die "PostgreSQL is not installed (no initdb/pg_ctl in PATH or /usr/lib/postgresql/*/bin)"
    BIN="$(find_bin)" || die "PostgreSQL was installed but initdb/pg_ctl were not found"
fi
RUN_AS="$(os_user)"

# Already running from this folder? Then reuse it.
if [ -f "$DATA/postmaster.pid" ] && as_user "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    PORT="$(sed -n 4p "$DATA/postmaster.pid")"
    say "reusing the server in $DATA (port $PORT)"
    url "$PORT"
    exit 0
fi

PORT="${QBE_PG_PORT:-$(free_port)}"
mkdir -p "$BASE"
chmod 755 "$BASE"
# The server's account must reach $BASE: every parent folder must be searchable.
if [ "$(id -u)" = 0 ]; then
    chown "$RUN_AS" "$BASE"
    runuser -u "$RUN_AS" -- test -w "$BASE" || die "$RUN_AS cannot write to $BASE (a parent folder is not searchable?)"
fi
if [ ! -f "$DATA/PG_VERSION" ]; then
    say "initdb in $DATA (as $RUN_AS)"
    as_user "$BIN/initdb" -D "$DATA" -U "$DB_USER" --auth=trust -E UTF8 --no-locale >"$BASE/initdb.log" 2>&1 \
        || { cat "$BASE/initdb.log" >&2; die "initdb failed"; }
fi
say "starting on 127.0.0.1:$PORT (log: $LOG)"
as_user "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -k $BASE -c fsync=off" start >&2 \
    || { tail -n 20 "$LOG" >&2 || true; die "the server did not start"; }
if ! as_user "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    as_user "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" "$DB_NAME" >&2 || die "createdb failed"
fi
url "$PORT"
