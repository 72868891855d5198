#!/usr/bin/env bash
# Make sure the PostgreSQL server programs that the tests need are on this machine.
#
# The tests start their own throwaway servers (tests/pgcluster.py) from initdb/pg_ctl/postgres;
# they never use a packaged cluster. Nothing is needed when:
#   - FAPIAO_TEST_PG_URL points at an existing server, or
#   - FAPIAO_PG_BIN, /usr/lib/postgresql/*/bin or PATH has initdb, pg_ctl and postgres
#     (and, when we are root, the `postgres` OS user exists to run them).
# Otherwise, as root, install Debian's `postgresql` package without starting its own cluster;
# not as root, say what to install and fail.
set -euo pipefail

have_binaries() {
    local dir=$1
    [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]]
}

find_binaries() {
    local dir
    if [[ -n ${FAPIAO_PG_BIN:-} ]]; then
        have_binaries "$FAPIAO_PG_BIN" && { echo "$FAPIAO_PG_BIN"; return 0; }
        return 1
    fi
    # Highest version first.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        have_binaries "$dir" && { echo "$dir"; return 0; }
    done
    if command -v pg_ctl >/dev/null 2>&1; then
        dir=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
        have_binaries "$dir" && { echo "$dir"; return 0; }
    fi
    return 1
}

ready() {
    local dir
    dir=$(find_binaries) || return 1
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        return 1
    fi
    echo "ensure-postgres: using $dir ($("$dir/postgres" --version))"
}

if [[ -n ${FAPIAO_TEST_PG_URL:-} ]]; then
    echo "ensure-postgres: FAPIAO_TEST_PG_URL is set; tests use that server"
    exit 0
fi

ready && exit 0

if [[ $(id -u) -ne 0 ]]; then
    cat >&2 <<'EOF'
ensure-postgres: the PostgreSQL server programs (initdb, pg_ctl, postgres) were not found.
The PostgreSQL tests need them. Either:
  - install them: sudo apt-get install postgresql   (Debian/Ubuntu; any version >= 15)
  - or point FAPIAO_PG_BIN at a directory holding initdb, pg_ctl and postgres
  - or set FAPIAO_TEST_PG_URL=postgresql+psycopg://USER@HOST:PORT/postgres
    to use an existing server (USER needs CREATEDB)
EOF
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-postgres: no apt-get here; install the PostgreSQL server (>= 15) by hand" >&2
    exit 1
fi

echo "ensure-postgres: installing Debian's postgresql package"
started=$SECONDS

# Keep the package from starting its own cluster during the install: the tests never use it.
# policy-rc.d is Debian's documented switch for that; only ours is removed afterwards.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
    if apt-get -o DPkg::Lock::Timeout=300 update -q &&
        apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends postgresql </dev/null; then
        break
    fi
    if [[ $attempt -eq 3 ]]; then
        echo "ensure-postgres: apt-get failed three times" >&2
        exit 1
    fi
    echo "ensure-postgres: apt-get failed; retrying in $((attempt * 10))s" >&2
    sleep $((attempt * 10))
done

if ! ready; then
    echo "ensure-postgres: postgresql was installed but the server programs are still missing" >&2
    exit 1
fi
echo "ensure-postgres: installed in $((SECONDS - started))s"
