#!/usr/bin/env bash
# First boot of the compose Postgres: the application role with its password. Tables, grants and
# everything else come from the service's migrations (`setup`), run as the owner.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<-SQL
  create role billing_app login password '${BILLING_APP_DB_PASSWORD}';
SQL
