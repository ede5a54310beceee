#!/usr/bin/env bash
# A three-node JetStream cluster on loopback for development, the shape
# deploy/ runs (one store per node, full mesh of routes):
#
#   bash tools/dev/nats-cluster.sh start   # clients on 4301-4303, routes on 6301-6303
#   NATS_URL=nats://127.0.0.1:4301,nats://127.0.0.1:4302,nats://127.0.0.1:4303 \
#     NATS_STREAM_REPLICAS=3 npm start
#   bash tools/dev/nats-cluster.sh stop    # stops the three servers
#   bash tools/dev/nats-cluster.sh clean   # stops them and deletes their stores
#
# State (configs, stores, logs, pids) lives in .dev/nats-cluster/.
# `sync_interval: always` (as deploy/) is set when nats-server is 2.10 or later.
set -euo pipefail
cd "$(dirname "$0")/../.."
NATS_SERVER="${FAULTS_NATS_SERVER:-/usr/sbin/nats-server}"
DIR=.dev/nats-cluster
NODES=(1 2 3)

stop() {
  for n in "${NODES[@]}"; do
    pid_file="$DIR/n$n/nats.pid"
    if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      kill "$(cat "$pid_file")" && echo "[nats-cluster] stopped n$n"
    fi
  done
}

start() {
  version="$("$NATS_SERVER" --version | sed -E 's/.*v([0-9]+)\.([0-9]+).*/\1 \2/')"
  read -r major minor <<<"$version"
  sync=""
  if [ "$major" -gt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -ge 10 ]; }; then
    sync="  sync_interval: always"
  fi
  for n in "${NODES[@]}"; do
    mkdir -p "$DIR/n$n/js"
    routes=""
    for m in "${NODES[@]}"; do
      [ "$m" = "$n" ] || routes="${routes:+$routes, }nats://127.0.0.1:630$m"
    done
    cat >"$DIR/n$n/nats.conf" <<EOF
server_name: n$n
listen: 127.0.0.1:430$n
pid_file: $PWD/$DIR/n$n/nats.pid
jetstream {
  store_dir: $PWD/$DIR/n$n/js
$sync
}
cluster {
  name: tep-dev
  listen: 127.0.0.1:630$n
  routes: [$routes]
}
EOF
    if [ -f "$DIR/n$n/nats.pid" ] && kill -0 "$(cat "$DIR/n$n/nats.pid")" 2>/dev/null; then
      echo "[nats-cluster] n$n already running"
      continue
    fi
    nohup "$NATS_SERVER" -c "$DIR/n$n/nats.conf" >"$DIR/n$n/nats.log" 2>&1 &
  done
  for n in "${NODES[@]}"; do
    for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/430"$n") 2>/dev/null && break; sleep 0.1; done
    (exec 3<>/dev/tcp/127.0.0.1/430"$n") 2>/dev/null || {
      echo "[nats-cluster] n$n is not listening on 430$n:" >&2
      tail -5 "$DIR/n$n/nats.log" >&2
      exit 1
    }
  done
  echo "[nats-cluster] up: NATS_URL=nats://127.0.0.1:4301,nats://127.0.0.1:4302,nats://127.0.0.1:4303 NATS_STREAM_REPLICAS=3"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  clean) stop && rm -rf "$DIR" ;;
  *) echo "usage: $0 start|stop|clean" >&2 && exit 2 ;;
esac
