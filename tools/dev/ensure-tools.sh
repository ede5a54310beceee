#!/usr/bin/env bash
# Tools the test suite uses beyond Node: promtool (Debian package
# `prometheus`) checks /metrics output and the alerting rules. Installed
# when missing; if that is impossible the tests that need it say SKIPPED.
set -uo pipefail
if ! command -v promtool >/dev/null 2>&1; then
  echo "[tools] installing promtool (Debian package prometheus)"
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null) \
      || echo "[tools] could not install promtool; its checks will be skipped"
    # The package starts a Prometheus server we do not need.
    (systemctl stop prometheus prometheus-node-exporter 2>/dev/null; pkill -x prometheus; pkill -f prometheus-node-exporter) >/dev/null 2>&1 || true
  fi
fi
command -v promtool >/dev/null 2>&1 && echo "[tools] $(promtool --version 2>&1 | head -1)"
exit 0
