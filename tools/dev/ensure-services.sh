#!/usr/bin/env bash
# Starts PostgreSQL and NATS (with JetStream) on this machine when they are
# down, with the commands DEVELOPERS.md gives, and waits until both answer.
# Used by `npm start` and `.ci/run`.
set -euo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
nats_up() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }

if ! pg_up; then
  echo "[services] starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! nats_up; then
  echo "[services] starting NATS with JetStream"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
fi
for _ in $(seq 1 60); do pg_up && nats_up && break; sleep 1; done
pg_up || { echo "[services] PostgreSQL is not answering on 127.0.0.1:5432"; exit 1; }
nats_up || { echo "[services] NATS is not answering on 127.0.0.1:4222"; exit 1; }
echo "[services] PostgreSQL and NATS are up"
