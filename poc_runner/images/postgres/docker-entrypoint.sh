#!/bin/bash
# The official postgres image's start-up, for what Compose files rely on: on an empty PGDATA,
# make the cluster (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_INITDB_ARGS,
# POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD; each *_FILE form too), create POSTGRES_DB,
# run /docker-entrypoint-initdb.d (*.sh, *.sql, *.sql.gz, *.sql.xz), then start the server.
# Differences, each so existing uses keep working: no password and no auth method given means
# `trust` (the official image refuses to start); with nothing customised the cluster is copied
# from one made at build time (a second instead of several); during initialisation the
# temporary server listens on a private socket only, so `pg_isready` says "not ready" until the
# real server is up (the official image answers ready while init scripts still run).
set -Eeo pipefail

TEMPLATE=/usr/local/share/postgresql/template-cluster
INIT_SOCKET=/tmp/postgresql-init

# VAR, or the content of the file VAR_FILE names (not both), or the default.
file_env() {
	local var="$1" file_var="${1}_FILE" default="${2:-}"
	if [ "${!var:-}" ] && [ "${!file_var:-}" ]; then
		echo >&2 "error: both $var and $file_var are set (they are exclusive)"
		exit 1
	fi
	local value="$default"
	if [ "${!var:-}" ]; then
		value="${!var}"
	elif [ "${!file_var:-}" ]; then
		value="$(<"${!file_var}")"
	fi
	export "$var"="$value"
	unset "$file_var"
}

setup_env() {
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"
	DATABASE_ALREADY_EXISTS=
	if [ -s "$PGDATA/PG_VERSION" ]; then
		DATABASE_ALREADY_EXISTS=true
	fi
}

# Started as root (a Compose file's `user: root`): make PGDATA the postgres user's, then
# continue as that user, as the official image does with gosu.
as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		mkdir -p "$PGDATA"
		chown postgres:postgres "$PGDATA"
		chmod 700 "$PGDATA"
		exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
	fi
}

create_cluster() {
	mkdir -p "$PGDATA"
	chmod 700 "$PGDATA" 2>/dev/null || :
	local customised="$POSTGRES_PASSWORD$POSTGRES_INITDB_ARGS${POSTGRES_INITDB_WALDIR:-}"
	if [ -z "$customised" ] && [ "$POSTGRES_USER" = postgres ] && [ -d "$TEMPLATE" ]; then
		cp -a "$TEMPLATE/." "$PGDATA/"
	else
		local args=(--username="$POSTGRES_USER" --encoding=UTF8 --no-locale)
		if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
			args+=(--waldir="$POSTGRES_INITDB_WALDIR")
		fi
		# shellcheck disable=SC2086 # the arguments are words, as the official image reads them
		initdb "${args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
			$POSTGRES_INITDB_ARGS >/dev/null
		printf "listen_addresses = '*'\njit = off\n" >>"$PGDATA/postgresql.conf"
	fi
	local method="$POSTGRES_HOST_AUTH_METHOD"
	if [ -z "$method" ]; then
		method=trust
		if [ -n "$POSTGRES_PASSWORD" ]; then
			method=scram-sha-256
		fi
	fi
	# the template already says `host all all all trust` (the image before this script did)
	if ! grep -qx "host all all all $method" "$PGDATA/pg_hba.conf"; then
		sed -i '/^host all all all /d' "$PGDATA/pg_hba.conf"
		echo "host all all all $method" >>"$PGDATA/pg_hba.conf"
	fi
}

process_sql() {
	psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

temp_server_start() {
	mkdir -p "$INIT_SOCKET"
	PGHOST="$INIT_SOCKET" PGUSER="${PGUSER:-$POSTGRES_USER}" \
		pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=$INIT_SOCKET" \
		start >/dev/null
}

temp_server_stop() {
	PGHOST="$INIT_SOCKET" pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
}

create_database() {
	if [ "$POSTGRES_DB" = postgres ]; then
		return
	fi
	local exists
	exists="$(process_sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only \
		<<<"SELECT 1 FROM pg_database WHERE datname = :'db';")"
	if [ -z "$exists" ]; then
		process_sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' \
			>/dev/null
		echo "created database $POSTGRES_DB"
	fi
}

run_init_scripts() {
	local file
	for file in /docker-entrypoint-initdb.d/*; do
		case "$file" in
		*.sh)
			if [ -x "$file" ]; then
				echo "running $file"
				"$file"
			else
				echo "sourcing $file"
				# shellcheck disable=SC1090 # the scenario's own script
				. "$file"
			fi
			;;
		*.sql)
			echo "running $file"
			process_sql --dbname "$POSTGRES_DB" -f "$file"
			;;
		*.sql.gz)
			echo "running $file"
			gunzip -c "$file" | process_sql --dbname "$POSTGRES_DB"
			;;
		*.sql.xz)
			echo "running $file"
			xzcat "$file" | process_sql --dbname "$POSTGRES_DB"
			;;
		*.sql.zst)
			echo "running $file"
			zstd -dc "$file" | process_sql --dbname "$POSTGRES_DB"
			;;
		*/\*) ;; # the folder is empty or absent
		*) echo "ignoring $file" ;;
		esac
	done
}

needs_server_for_init() {
	[ "$POSTGRES_DB" != postgres ] && return 0
	local file
	for file in /docker-entrypoint-initdb.d/*; do
		[ -e "$file" ] && return 0
	done
	return 1
}

main() {
	if [ "${1:0:1}" = - ]; then
		set -- postgres "$@"
	fi
	if [ "$1" != postgres ]; then
		exec "$@"
	fi
	as_postgres "$@"
	setup_env
	if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
		create_cluster
		if needs_server_for_init; then
			export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
			temp_server_start
			# scripts' own psql reaches the temporary server as POSTGRES_USER
			export PGHOST="$INIT_SOCKET" PGUSER="${PGUSER:-$POSTGRES_USER}"
			create_database
			run_init_scripts
			temp_server_stop
			unset PGHOST PGUSER PGPASSWORD
		fi
		echo "PostgreSQL init process complete; ready for start up."
	fi
	exec "$@"
}

main "$@"
