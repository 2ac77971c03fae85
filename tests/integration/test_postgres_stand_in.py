"""The local PostgreSQL image (poc_runner/images/postgres) starts the way the official `postgres`
image does, so a vendor's Compose file written for `postgres:16` runs unchanged once the
scenario maps the image onto the stand-in: POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD_FILE,
POSTGRES_INITDB_ARGS, PGDATA in a named volume, init scripts (.sql and .sh), a pg_isready
healthcheck, and a migration job that signs in over the network with the password."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from poc_runner.result import RunResult

from .conftest import run_folder

STAND_IN = "poc-runner/postgres:bookworm"  # what `make sandbox` builds

# As a vendor writes it for the official image; not one line changes for the proof.
COMPOSE = """\
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_DB: ledgerlens
      POSTGRES_USER: ledger
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
      POSTGRES_INITDB_ARGS: --data-checksums
      PGDATA: /var/lib/postgresql/data/pgdata
    volumes:
      - dbdata:/var/lib/postgresql/data
      - ./initdb:/docker-entrypoint-initdb.d:ro
    secrets: [db_password]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U ledger -d ledgerlens"]
      interval: 1s
      timeout: 5s
      retries: 60
  migrate:
    image: postgres:16
    environment: {PGPASSWORD: s3cret-ledger}
    command: [psql, -h, db, -U, ledger, -d, ledgerlens, -v, ON_ERROR_STOP=1,
              -c, "INSERT INTO invoices VALUES (3, 'migrated')"]
    depends_on: {db: {condition: service_healthy}}
  app:
    image: postgres:16
    command: [sleep, infinity]
    depends_on: {migrate: {condition: service_completed_successfully}}
volumes:
  dbdata:
secrets:
  db_password:
    file: ./db_password.txt
"""
SCHEMA = (
    "CREATE TABLE invoices (id int PRIMARY KEY, vendor text);\n"
    "INSERT INTO invoices VALUES (1, 'acme');\n"
)
MORE = 'psql -v ON_ERROR_STOP=1 --dbname "$POSTGRES_DB" -c "INSERT INTO invoices VALUES (2, current_user)"\n'


def sql(name: str, query: str, value: object) -> str:
    return (
        f'    - {{id: {name}, for: [DBA], check: {{type: sql, service: db, query: "{query}",'
        f" op: '==', value: {value!r}}}}}\n"
    )


def test_a_compose_file_for_postgres_16_runs_unchanged_on_the_stand_in(
    scenario: Callable[..., Path], run: Callable[..., RunResult], tmp_path: Path
) -> None:
    path = scenario(
        textwrap.dedent(f"""\
        job:
          statement: The vendor's database comes up as the official image brings it up.
          stakeholders: [{{role: DBA, wants: The stack as written}}]
        compose: deploy/compose.yaml
        services:   # the one change: where the image comes from (no registry here)
          db: {{image: {STAND_IN}}}
          migrate: {{image: {STAND_IN}}}
          app: {{image: {STAND_IN}}}
        steps:
          - {{name: password, service: app, run: "PGPASSWORD=s3cret-ledger psql -h db -U ledger -d ledgerlens -Atc 'select current_user'"}}
          - {{name: wrong-password, service: app, run: "PGPASSWORD=wrong psql -h db -U ledger -d ledgerlens -Atc 'select 1'"}}
        acceptance:
          criteria:
        """)
        + sql(
            "rows",
            "select string_agg(vendor, ',' order by id) from invoices",
            "acme,ledger,migrated",
        )
        + sql(
            "owner",
            "select pg_get_userbyid(datdba) from pg_database where datname = current_database()",
            "ledger",
        )
        + sql("checksums", "select current_setting('data_checksums')", "on")
        + sql(
            "pgdata", "select current_setting('data_directory')", "/var/lib/postgresql/data/pgdata"
        ),
        name="postgres-16",
        files={
            "deploy/compose.yaml": COMPOSE,
            "deploy/db_password.txt": "s3cret-ledger",
            "deploy/initdb/01-schema.sql": SCHEMA,
            "deploy/initdb/02-more.sh": MORE,
        },
    )
    result = run(path)
    assert result.error is None, result.error
    assert {c.id: c.passed for c in result.criteria} == dict.fromkeys(
        ("rows", "owner", "checksums", "pgdata"), True
    ), [(c.id, c.measured, c.evidence) for c in result.criteria]
    steps = {s.name: s.exit_code for s in result.steps}
    assert steps == {"password": 0, "wrong-password": 2}
    folder = run_folder(tmp_path, result) / "steps"
    assert (folder / "password.out").read_text() == "ledger\n"
    assert "password authentication failed" in (folder / "wrong-password.err").read_text()
