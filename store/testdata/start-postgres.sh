#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the store's tests on 127.0.0.1:55432 (idempotent:
# does nothing but print the URL when it is already running). Installs nothing: it expects
# Debian's postgresql package. Prints the URL to put in PORTAL_TEST_DATABASE_URL.
#
# Environment: PGDATA_DIR (default /tmp/pgdata), PGPORT_TEST (default 55432).
set -euo pipefail

datadir="${PGDATA_DIR:-/tmp/pgdata}"
port="${PGPORT_TEST:-55432}"
url="postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -z "${bindir}" || ! -x "${bindir}/initdb" ]]; then
	echo "start-postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
	exit 1
fi

# postgres refuses to run as root, so the cluster belongs to the postgres user when we are root.
run_as_pg() {
	if [[ "$(id -u)" == 0 ]]; then
		su postgres -s /bin/bash -c "$1"
	else
		bash -c "$1"
	fi
}

if run_as_pg "'${bindir}/pg_isready' -q -h 127.0.0.1 -p ${port}"; then
	echo "${url}"
	exit 0
fi

if [[ ! -f "${datadir}/PG_VERSION" ]]; then
	mkdir -p "${datadir}"
	if [[ "$(id -u)" == 0 ]]; then chown postgres "${datadir}"; fi
	chmod 700 "${datadir}"
	run_as_pg "'${bindir}/initdb' -D '${datadir}' -A trust -U postgres >/dev/null"
fi

run_as_pg "'${bindir}/pg_ctl' -D '${datadir}' -o \"-k /tmp -p ${port} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off\" -l '${datadir}.log' -w start >/dev/null"

for _ in $(seq 1 50); do
	if run_as_pg "'${bindir}/pg_isready' -q -h 127.0.0.1 -p ${port}"; then
		echo "${url}"
		exit 0
	fi
	sleep 0.2
done
echo "start-postgres: PostgreSQL did not become ready on port ${port}; see ${datadir}.log" >&2
exit 1
