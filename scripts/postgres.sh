# PostgreSQL on loopback for the journey stores' tests (sourced by scripts/test; needs `step`,
# `note` and `apt_install` from scripts/lib.sh). Debian's server, a throw-away cluster under
# target/pg owned by the postgres user (the server refuses to run as root), on a free port.
#   postgres_start   -> exports IPROOV_TEST_POSTGRES (a libpq connection string, for psycopg)
#                       and IPROOV_TEST_POSTGRES_URL (the same as a URL, for node-postgres)
#   postgres_stop

PG_DIR="$PWD/target/pg"

# postgres_bin: the newest installed server's bin folder, or nothing (status 0) when there is
# none; compgen -G rather than ls, whose status 2 for no match would end the caller (pipefail).
postgres_bin() {
  local dirs
  dirs=$(compgen -G '/usr/lib/postgresql/*/bin') || return 0
  sort -V <<<"$dirs" | tail -n 1
}

postgres_start() {
  local bin port as=()
  bin=$(postgres_bin)
  if [ -z "$bin" ]; then
    note "installing Debian's postgresql"
    apt_install postgresql
    bin=$(postgres_bin)
    [ -n "$bin" ] || { echo "postgres_start: no /usr/lib/postgresql/*/bin after installing postgresql" >&2; return 1; }
  fi
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  # An earlier run's cluster, gone: a pid file a crash left behind (its pid since reused by
  # another process) cannot be stopped, and the cluster is made anew below anyway.
  postgres_stop || note "target/pg: the earlier cluster did not stop cleanly; made anew"
  rm -rf "$PG_DIR"
  mkdir -p "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-h 127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c max_connections=200" start >/dev/null
  "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres iproov
  export IPROOV_TEST_POSTGRES="host=127.0.0.1 port=$port dbname=iproov user=postgres"
  export IPROOV_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/iproov"
  note "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (${PG_DIR#"$PWD"/})"
}

# postgres_stop: the server stopped (pg_ctl waits until it is gone), or an error naming why
# not; nothing to do when no cluster runs. A cluster a crash left with its pid file but no
# server is not running (pg_ctl status 3).
postgres_stop() {
  local bin as=() status=0
  bin=$(postgres_bin)
  [ -n "$bin" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1 || status=$?
  [ "$status" != 3 ] || return 0
  if [ "$status" != 0 ] || ! "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null; then
    echo "postgres_stop: the server of ${PG_DIR#"$PWD"/} did not stop (pg_ctl status $status); its log: $PG_DIR/log" >&2
    return 1
  fi
}
