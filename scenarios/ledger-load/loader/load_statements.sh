#!/bin/sh
# The product under test: LedgerSync's loader. Every bank statement file in, each transaction
# once (banks re-send), into one ledger table in the warehouse.
set -eu
export PGHOST="${PGHOST:-db}" PGUSER="${PGUSER:-postgres}"

{
  echo "CREATE TABLE IF NOT EXISTS ledger (txn_id text PRIMARY KEY, account text NOT NULL,"
  echo "  booked_on date NOT NULL, amount numeric(14,2) NOT NULL, counterparty text);"
  echo "CREATE TEMP TABLE staging (txn_id text, account text, booked_on date,"
  echo "  amount numeric(14,2), counterparty text);"
  for file in "$1"/*.csv; do
    printf '%s\n' "\\copy staging FROM '$file' WITH (FORMAT csv, HEADER true)"
  done
  echo "INSERT INTO ledger SELECT DISTINCT ON (txn_id) * FROM staging ORDER BY txn_id"
  echo "  ON CONFLICT (txn_id) DO NOTHING;"
  echo "SELECT 'statement rows read: ' || count(*) FROM staging;"
  echo "SELECT 'ledger rows: ' || count(*) FROM ledger;"
} | psql -X -q -t -A -v ON_ERROR_STOP=1
