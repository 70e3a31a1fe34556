#!/bin/sh
# PostgreSQL first start (docker-entrypoint-initdb.d): the application database beside Prefect's.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -c "CREATE DATABASE \"${YTMAKER_DB:-ytmaker}\" OWNER \"$POSTGRES_USER\";"
