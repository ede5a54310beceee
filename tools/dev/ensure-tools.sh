#!/usr/bin/env bash
# Tools the test suite uses beyond Node, from Debian's packages, installed
# when missing: promtool (package `prometheus`) checks /metrics output and
# the alerting rules; Chromium renders the notes as a technician sees them;
# PgBouncer pools the services' connections in transaction mode (the RLS
# spec runs through it, the fault suite can put it in front of PostgreSQL).
# If an install is impossible the tests that need the tool say SKIPPED.
set -uo pipefail
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[tools] installing ${missing[*]} (Debian packages)"
  # Packages must not start services (prometheus would): policy-rc.d answers
  # "not allowed" while we install, instead of killing processes by name after.
  policy=/usr/sbin/policy-rc.d
  had_policy=0
  [ -e "$policy" ] && had_policy=1
  if [ $had_policy -eq 0 ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"; fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null) \
    || echo "[tools] could not install ${missing[*]}; the checks that need them will be skipped"
  [ $had_policy -eq 0 ] && rm -f "$policy"
fi
command -v promtool >/dev/null 2>&1 && echo "[tools] $(promtool --version 2>&1 | head -1)"
command -v chromium >/dev/null 2>&1 && echo "[tools] $(chromium --version 2>/dev/null | head -1)"
[ -x /usr/sbin/pgbouncer ] && echo "[tools] $(/usr/sbin/pgbouncer --version 2>/dev/null | head -1)"
exit 0
