#!/usr/bin/env bash
# Run once by the postgres image on an empty data directory (docker-compose.yml):
# the application's login role, which owns nothing. Tables are created by
# app_owner (POSTGRES_USER); default privileges give app DML on them, and
# `manage.py grant_app_role --role app` (the migrate job) leaves it only SELECT
# and INSERT on the audit table (docs/governance.md, "Operations").
set -euo pipefail
# The hot standby (docker-compose.yml, postgres-replica) streams WAL as the
# replicator role over the compose network.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v replication_password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator LOGIN REPLICATION PASSWORD :'replication_password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE app LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT CONNECT ON DATABASE app TO app;
GRANT USAGE ON SCHEMA public TO app;
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app;
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO app;
SQL
