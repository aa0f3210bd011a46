#!/usr/bin/env bash
# Make sure PostgreSQL *server* binaries (initdb, pg_ctl, postgres) are present so the
# test suite can start its own throwaway cluster (see tests/pgcluster.py).
#
# - Idempotent and quick: if the binaries are already there it only prints where and exits.
# - Otherwise installs the Debian/Ubuntu "postgresql" package non-interactively
#   (needs root, or passwordless sudo).
# - Never leaves the distribution's default cluster running: service start-up is blocked
#   during the install (policy-rc.d) and any cluster the install created is stopped and set
#   to start manually.  Works with or without systemd / `service`.
#
# Usage: bash scripts/ensure_postgres.sh   (messages go to stderr; exit 0 = binaries present)
set -euo pipefail

log() { printf 'ensure_postgres: %s\n' "$*" >&2; }

# Same lookup order as tests/pgcluster.py:find_pg_bindir().
find_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    # Newest /usr/lib/postgresql/<N>/bin that has both initdb and pg_ctl.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    return 1
}

if bindir="$(find_bindir)"; then
    log "PostgreSQL server binaries found in $bindir"
    exit 0
fi

log "PostgreSQL server binaries not found; installing the 'postgresql' package"

if ! command -v apt-get >/dev/null 2>&1; then
    log "ERROR: apt-get is not available; install the PostgreSQL server (initdb, pg_ctl) manually"
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        log "ERROR: need root (or passwordless sudo) to install PostgreSQL; run as root or install the 'postgresql' package yourself"
        exit 1
    fi
fi

as_root() { "${SUDO[@]}" "$@"; }

list_clusters() {
    # "<version> <name>" per line; empty if pg_lsclusters is absent.
    if command -v pg_lsclusters >/dev/null 2>&1; then
        pg_lsclusters --no-header 2>/dev/null | awk '{print $1, $2}' || true
    fi
}

clusters_before="$(list_clusters)"

# Block service start-up during the install (invoke-rc.d honours policy-rc.d).  If a
# policy-rc.d already exists (Docker images usually ship one that says 101) leave it alone.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$POLICY" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > '$POLICY' && chmod 755 '$POLICY'"
    created_policy=1
fi
cleanup_policy() {
    if [ "$created_policy" = 1 ]; then
        as_root rm -f "$POLICY" || true
    fi
}
trap cleanup_policy EXIT

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update
as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" --no-install-recommends postgresql

cleanup_policy
created_policy=0

# Stop and disable whatever cluster(s) the install created (normally "<N> main").
clusters_after="$(list_clusters)"
new_clusters="$(comm -13 <(printf '%s\n' "$clusters_before" | sort) <(printf '%s\n' "$clusters_after" | sort) | sed '/^$/d' || true)"
if [ -n "$new_clusters" ]; then
    while read -r ver name; do
        [ -n "$ver" ] || continue
        log "stopping and disabling default cluster $ver/$name created by the install"
        as_root pg_ctlcluster "$ver" "$name" stop -m fast >/dev/null 2>&1 || true
        conf="/etc/postgresql/$ver/$name/start.conf"
        if [ -f "$conf" ]; then
            as_root sh -c "printf 'manual\n' > '$conf'" || true
        fi
    done <<<"$new_clusters"
    # Service managers: best effort only, they may well be absent or not running.
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        as_root systemctl stop postgresql >/dev/null 2>&1 || true
        as_root systemctl disable postgresql >/dev/null 2>&1 || true
    elif command -v update-rc.d >/dev/null 2>&1; then
        as_root update-rc.d postgresql disable >/dev/null 2>&1 || true
    fi
fi

if bindir="$(find_bindir)"; then
    log "PostgreSQL server binaries installed in $bindir"
    exit 0
fi
log "ERROR: installed 'postgresql' but still cannot find initdb/pg_ctl (checked pg_config --bindir and /usr/lib/postgresql/*/bin)"
exit 1
