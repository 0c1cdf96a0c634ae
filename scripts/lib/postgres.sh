# Starts a throwaway PostgreSQL cluster on a free loopback port, stopped and removed
# when the calling script exits. Sets PG_URL (an admin URL). Needs `pg_bin` and `say`.
PGBIN="$(pg_bin)"
PGROOT="$(mktemp -d /tmp/callplane-pg.XXXXXX)"
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port" >&2; exit 1
}
PGPORT="$(free_port)"
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$PGROOT"
stop_pg() { as_pg "'$PGBIN/pg_ctl' -D '$PGROOT/data' -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$PGROOT"; }
trap stop_pg EXIT
say "starting a throwaway PostgreSQL on 127.0.0.1:$PGPORT"
as_pg "'$PGBIN/initdb' -D '$PGROOT/data' -U postgres -A trust --no-sync -E UTF8 >/dev/null"
if ! as_pg "'$PGBIN/pg_ctl' -D '$PGROOT/data' -l '$PGROOT/log' -w -o \"-h 127.0.0.1 -p $PGPORT -k '$PGROOT' -F -c max_connections=400\" start >/dev/null"; then
  # The log goes with the cluster on exit: show why it did not start first.
  echo "PostgreSQL did not start; its log:" >&2
  cat "$PGROOT/log" >&2 || true
  exit 1
fi
PG_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
