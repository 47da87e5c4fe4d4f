#!/usr/bin/env bash
# Fuzz the HTTP API against its own OpenAPI schema with schemathesis, signed in as a
# user (admin by default), for a bounded time. The acceptance is 0 server errors and
# 0 response-schema violations (bench/README.md, "Schema fuzzing").
#
#   bench/schema_fuzz.sh [BASE_URL] [SECONDS]      default http://127.0.0.1:8102 600
#   FUZZ_USER=admin FUZZ_PASSWORD=demo-admin-2026  the account (the demo's admin)
#
# Run it against a server with demo data, never a shared one: it creates, changes and
# signs things as that user. The logout endpoints are left out (they would revoke the
# token the run uses).
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-http://127.0.0.1:8102}"
seconds="${2:-600}"
user="${FUZZ_USER:-admin}"
password="${FUZZ_PASSWORD:-demo-admin-2026}"

token=$(curl -sf -m 60 -X POST "$base/api/v1/auth/token/" -H 'Content-Type: application/json' \
  -d "{\"username\": \"$user\", \"password\": \"$password\"}" |
  .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["token"])')

exec .venv/bin/st run "$base/api/schema/?format=json" \
  --url "$base" \
  --header "Authorization: Token $token" \
  --checks not_a_server_error,response_schema_conformance \
  --exclude-path /api/v1/auth/logout/ \
  --exclude-path /api/v1/auth/logout-all/ \
  --max-time "$seconds" \
  --max-examples 100000 \
  --workers 1 \
  --request-timeout 60 \
  --seed "${FUZZ_SEED:-20261207}"
