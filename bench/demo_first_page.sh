#!/usr/bin/env bash
# Time from "make install is done" to the demo's first page, on a fresh SQLite file:
# prepare_demo (migrate, seed, demo publication), then runserver until / answers.
#   bash bench/demo_first_page.sh [PORT]      (run from the project folder, after make install)
# Prints each step's time, the total, CPU seconds and the load average (the machine's
# other work slows every figure).
set -euo pipefail
port=${1:-8123}
db=$(mktemp -d)/demo.sqlite3
export DEBUG=1 DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL="sqlite:///$db"
unset REDIS_URL
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
/usr/bin/time -f "prepare_demo: %e s wall, %U s user, %S s system" \
  .venv/bin/python manage.py prepare_demo | grep -E "^(migrate|seed|recompute|demo)"
.venv/bin/python manage.py runserver "127.0.0.1:$port" --noreload >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$(dirname "$db")"' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$port/accounts/login/"; do sleep 0.2; done
end=$(date +%s.%N)
echo "first page after $(echo "$end - $start" | bc) s"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
