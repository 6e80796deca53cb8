# shellcheck shell=bash
# Shared shell functions for the migrate test harness.
#
# Sourced by test/run, test/demo and by shell tests (test/*.sh).  Sourcing it
# only defines functions and records where the repository is; nothing runs.
#
# Everything here runs as root: the server itself must run as the `postgres`
# OS user (pg_ctl refuses root), so initdb/pg_ctl go through `runuser`.
#
# A shell test run by test/run gets, exported, from the shared cluster:
#   PGHOST PGPORT PGUSER=postgres PGDATABASE=postgres   (plain psql works)
#   MIG_ROOT      repository root (also the current directory)
#   MIG_LIB       this file:  . "$MIG_LIB"
#   MIG_WORK      work dir (owned by postgres, removed at the end)
#   MIG_DATA      data dir; MIG_LOG server log; MIG_SOCK socket dir
#   MIG_FIXTURES  copy of test/fixtures (in migrate.allowed_dirs)
#                 $MIG_WORK/allowed2 is allowed too, $MIG_WORK/outside is not
#   MIG_PGBIN     the tested version's bin dir (also first in PATH); MIG_PORT = PGPORT
#   MIG_PG_VERSION  the PostgreSQL major version under test
# and no standard input.  It may change postgresql.conf (mig_conf) and reload
# or restart (mig_reload_cluster, mig_restart_cluster); test/run restarts the
# server if a test leaves it stopped.  mig_stop_cluster is a no-op there.

# Where this file lives, recorded now because BASH_SOURCE and the current
# directory may be different by the time a function is called.
_MIG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The PostgreSQL major version under test: MIG_PG_VERSION if set, else the
# one this Debian release ships (12: 15, 13: 17, unstable: 18).
mig_pg_version() {
    if [[ -n ${MIG_PG_VERSION:-} ]]; then
        printf '%s\n' "$MIG_PG_VERSION"
        return
    fi
    local codename
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
    case $codename in
        trixie) echo 17 ;;
        sid | forky) echo 18 ;;
        *) echo 15 ;;
    esac
}
MIG_PG_VERSION=$(mig_pg_version)
export MIG_PG_VERSION

# The packages a fresh Debian needs for that version.  pg_prove comes from
# libtap-parser-sourcehandler-pgtap-perl; `pgtap` is the metapackage.
MIG_DEPS=(make gcc postgresql-"$MIG_PG_VERSION" postgresql-server-dev-"$MIG_PG_VERSION"
          postgresql-"$MIG_PG_VERSION"-pgtap pgtap postgresql-"$MIG_PG_VERSION"-cron
          libtap-parser-sourcehandler-pgtap-perl)

# Repository root: MIG_ROOT if the caller set it, else the parent of test/.
mig_root() {
    if [[ -n ${MIG_ROOT:-} ]]; then
        printf '%s\n' "$MIG_ROOT"
    else
        (cd "$_MIG_LIB_DIR/.." && pwd)
    fi
}

# Messages to stderr so they never mix with output a caller captures.
mig_log() { printf '%s\n' "$*" >&2; }
mig_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The pg_config to use.  PG_CONFIG wins; otherwise the tested version's own,
# since Debian's /usr/bin/pg_config wrapper picks the newest server-dev installed.
mig_pg_config() {
    if [[ -n ${PG_CONFIG:-} ]]; then
        printf '%s\n' "$PG_CONFIG"
    elif [[ -x /usr/lib/postgresql/$MIG_PG_VERSION/bin/pg_config ]]; then
        printf '%s\n' "/usr/lib/postgresql/$MIG_PG_VERSION/bin/pg_config"
    else
        command -v pg_config || mig_die "pg_config not found (run mig_install_deps)"
    fi
}

# Install whatever of MIG_DEPS is missing.  Quiet and network-free when all
# are present; otherwise one `apt-get update` and one install.
mig_install_deps() {
    local pkg missing=()
    for pkg in "${MIG_DEPS[@]}"; do
        # dpkg -s also succeeds for removed-but-not-purged packages, so
        # look at the status word itself.
        if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
            missing+=("$pkg")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    [[ $EUID -eq 0 ]] || mig_die "need root to install: ${missing[*]}"
    mig_log "installing: ${missing[*]}"
    # CI has no standard input: never let apt or debconf ask anything.
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq update </dev/null || return 1
    apt-get -qq install -y --no-install-recommends "${missing[@]}" </dev/null >/dev/null || return 1
}

# Build and install the extension from the repository root.
#
# Two runs at once (test/run in a loop while another loads the machine, or
# test/run beside bench/) must not break each other: the build takes a lock
# per repository (a second run waits, then cleans and builds alone), and the
# install takes one per installation and only replaces a file whose content
# changed, by rename.  So a server that loads migrate.so (a background worker
# starting) never sees it missing or half written when another run installs
# the very same build.
mig_build_install() {
    local pgc root stage lock
    pgc=$(mig_pg_config) || return 1
    root=$(mig_root)
    lock=/tmp/migrate-build.$(printf '%s' "$root" | md5sum | cut -c1-12).lock
    (
        cd "$root" || exit 1
        flock 8 || exit 1
        make -s PG_CONFIG="$pgc" clean >/dev/null
        make -s PG_CONFIG="$pgc" || exit 1
        stage=$(mktemp -d /tmp/migrate-stage.XXXXXX) || exit 1
        # shellcheck disable=SC2064  # expand stage now
        trap "rm -rf '$stage'" EXIT
        make -s PG_CONFIG="$pgc" DESTDIR="$stage" install >/dev/null || exit 1
        _mig_install_changed "$stage" "$pgc"
    ) 8>"$lock"
}

# _mig_install_changed STAGE PG_CONFIG: copy each file of the staged install
# tree STAGE (DESTDIR) to its place, unless the same bytes are there already;
# a changed file is written beside its target and renamed over it.  Holds a
# lock per installation (its pkglibdir) so that two installs do not mix.
_mig_install_changed() {
    local stage=$1 pgc=$2 f target lock
    lock=/tmp/migrate-install.$("$pgc" --pkglibdir | md5sum | cut -c1-12).lock
    (
        flock 9 || exit 1
        while IFS= read -r -d '' f; do
            target=${f#"$stage"}
            cmp -s "$f" "$target" 2>/dev/null && continue
            mkdir -p "$(dirname "$target")" || exit 1
            install -m "$(stat -c %a "$f")" "$f" "$target.migrate-new.$$" &&
                mv -f "$target.migrate-new.$$" "$target" || exit 1
        done < <(find "$stage" -type f -print0)
    ) 9>"$lock"
}

# psql that stops at the first error and reads no ~/.psqlrc.
mig_psql() {
    "${MIG_PGBIN:+$MIG_PGBIN/}psql" -X -v ON_ERROR_STOP=1 -q "$@"
}

# mig_refused OUTFILE TEXT CMD...: in a shell test, CMD must fail and print
# TEXT; its output is kept in OUTFILE and shown when the check fails.
mig_refused() {
    local f=$1 want=$2
    shift 2
    if "$@" >"$f" 2>&1; then
        cat "$f" >&2
        echo "FAIL: should have failed: $*" >&2
        exit 1
    fi
    grep -qF -- "$want" "$f" || {
        cat "$f" >&2
        echo "FAIL: no '$want' in the output of: $*" >&2
        exit 1
    }
}

# mig_expect FILE TEXT: in a shell test, FILE must contain TEXT.
mig_expect() {
    grep -qF -- "$2" "$1" || {
        cat "$1" >&2
        echo "FAIL: $1 lacks: $2" >&2
        exit 1
    }
}

# mig_wait_for DB SQL EXPECTED [SECONDS]: poll (every 0.1 s, for at most
# SECONDS, default 60) until SQL in DB returns EXPECTED; an error of SQL
# counts as not yet.  Fails the test when the time is up.
mig_wait_for() {
    local db=$1 query=$2 want=$3 secs=${4:-60} i got=
    for ((i = 0; i < secs * 10; i++)); do
        got=$(mig_psql -d "$db" -At -c "$query" 2>&1) || true
        [[ $got == "$want" ]] && return 0
        sleep 0.1
    done
    echo "FAIL: timed out waiting for: $query = $want (got: $got)" >&2
    exit 1
}

# Is something already listening on 127.0.0.1:PORT?
_mig_port_free() {
    # A successful connect means taken; bash's /dev/tcp needs no extra tools.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Reserve PORT for the cluster this process starts: an flock on
# /tmp/migrate-ports/PORT, held as long as this shell (and the server, which
# inherits the descriptor) lives.  Listening alone does not say a port is
# taken: a fault test stops the server and starts it again on the same port,
# and another test run looking for a free port in between would take it.
_mig_port_reserve() {
    local dir=${MIG_PORT_LOCKS:-/tmp/migrate-ports} fd
    mkdir -p "$dir" || return 1
    exec {fd}>>"$dir/$1" || return 1
    if flock -n "$fd"; then
        MIG_PORT_LOCK_FD=$fd
        return 0
    fi
    exec {fd}>&-
    return 1
}

# Give up the reservation of a port the server could not use after all.
_mig_port_release() {
    [[ -n ${MIG_PORT_LOCK_FD:-} ]] || return 0
    exec {MIG_PORT_LOCK_FD}>&-
    MIG_PORT_LOCK_FD=
}

# Run a command as postgres from a directory postgres may enter (initdb and
# pg_ctl complain when they cannot stat the current directory).
_mig_as_postgres() {
    (cd "$MIG_WORK" && runuser -u postgres -- "$@")
}

# mig_init_cluster [EXTRA_CONF_LINE...]
# Create a work dir and an initdb'ed, configured (not yet running) cluster,
# and export MIG_WORK, MIG_DATA, MIG_FIXTURES, MIG_PGBIN, MIG_LOG, MIG_SOCK.
# In EXTRA_CONF_LINE, @MIG_WORK@ is replaced by the work dir; the lines go
# after the defaults, so a repeated setting overrides the default.
# Split from mig_start_server so a caller can put files in place (e.g. a
# migrations directory named in migrate.allowed_dirs) before the start.
mig_init_cluster() {
    [[ $EUID -eq 0 ]] || mig_die "must run as root (the server runs as postgres via runuser)"
    id postgres >/dev/null 2>&1 || mig_die "no postgres OS user (run mig_install_deps)"
    local pgc root line
    pgc=$(mig_pg_config) || return 1
    root=$(mig_root)

    # /tmp rather than $TMPDIR: postgres must be able to traverse the path,
    # and the socket path must stay under the ~107-byte limit.
    MIG_WORK=$(mktemp -d "${MIG_TMPDIR:-/tmp}/migrate-test.XXXXXX") || return 1
    # Marker: mig_stop_cluster removes only directories that carry it.
    touch "$MIG_WORK/.mig_work"
    # Only the process that made the cluster may remove it: a shell test
    # inherits this environment and must not tear down the shared cluster.
    export MIG_WORK_OWNER=$$
    MIG_PGBIN=$("$pgc" --bindir)
    MIG_DATA=$MIG_WORK/data
    MIG_SOCK=$MIG_WORK/sock
    MIG_FIXTURES=$MIG_WORK/fixtures
    MIG_LOG=$MIG_WORK/server.log
    export MIG_WORK MIG_PGBIN MIG_DATA MIG_SOCK MIG_FIXTURES MIG_LOG

    mkdir -p "$MIG_SOCK" "$MIG_FIXTURES" "$MIG_WORK/allowed2" "$MIG_WORK/outside"
    if [[ -d $root/test/fixtures ]]; then
        # -a keeps symlinks as symlinks: fixtures may test symlink escapes.
        cp -a "$root/test/fixtures/." "$MIG_FIXTURES/"
    fi
    : >"$MIG_LOG"
    chown -hR postgres:postgres "$MIG_WORK"
    # mktemp makes 0700; keep it so, postgres owns it and root can enter anyway.

    if ! _mig_as_postgres "$MIG_PGBIN/initdb" -D "$MIG_DATA" --auth=trust -U postgres \
            --encoding=UTF8 --locale=C.UTF-8 >"$MIG_WORK/initdb.log" 2>&1; then
        cat "$MIG_WORK/initdb.log" >&2
        return 1
    fi

    {
        printf '\n# added by test/lib.sh\n'
        printf "listen_addresses = '127.0.0.1'\n"
        printf "unix_socket_directories = '%s'\n" "$MIG_SOCK"
        printf "shared_preload_libraries = 'pg_cron'\n"
        printf "cron.database_name = 'postgres'\n"
        # pg_cron's jobs connect with libpq; point them at our private socket
        # instead of localhost so they work whatever the TCP setup.
        printf "cron.host = '%s'\n" "$MIG_SOCK"
        printf "max_worker_processes = 32\n"
        printf "migrate.allowed_dirs = '%s,%s'\n" "$MIG_FIXTURES" "$MIG_WORK/allowed2"
        printf "migrate_test.fixtures = '%s'\n" "$MIG_FIXTURES"
        printf "migrate_test.work = '%s'\n" "$MIG_WORK"
        printf "fsync = off\n"
        printf "log_min_messages = warning\n"
        for line in "$@"; do
            printf '%s\n' "${line//@MIG_WORK@/$MIG_WORK}"
        done
    } >>"$MIG_DATA/postgresql.conf"
}

# Start the cluster made by mig_init_cluster on a free port and export
# PGHOST, PGPORT, PGUSER, PGDATABASE, MIG_PORT; put MIG_PGBIN first in PATH
# so psql/pg_prove use the tested version's client, not Debian's wrapper.
mig_start_server() {
    # Each version starts from its own base: runs in the Debian roots of
    # test/matrix share the ports but not /tmp/migrate-ports.
    local port=${MIG_PORT_BASE:-$((54321 + (MIG_PG_VERSION - 15) * 100))} tries=0 before
    while ((tries < 20 && port < 65536)); do
        if ! _mig_port_free "$port" || ! _mig_port_reserve "$port"; then
            port=$((port + 1))
            continue
        fi
        tries=$((tries + 1))
        before=$(wc -l <"$MIG_LOG")
        # Port is passed with -o so `pg_ctl restart` keeps it (postmaster.opts).
        if _mig_as_postgres "$MIG_PGBIN/pg_ctl" -D "$MIG_DATA" -l "$MIG_LOG" -w -t 120 \
                -o "-p $port" start >/dev/null 2>&1; then
            export PGHOST=$MIG_SOCK PGPORT=$port PGUSER=postgres PGDATABASE=postgres
            export MIG_PORT=$port
            export PATH="$MIG_PGBIN:$PATH"
            return 0
        fi
        # Someone may have taken the port between the check and the start.
        # (grep reads a file, not a pipe: grep -q quits at its first match,
        # and a writer still writing would die of SIGPIPE, failing the test
        # under pipefail.)
        if tail -n "+$((before + 1))" "$MIG_LOG" >"$MIG_WORK/start.log" &&
                grep -qE 'could not bind|could not create any TCP/IP sockets' "$MIG_WORK/start.log"; then
            _mig_port_release
            port=$((port + 1))
            continue
        fi
        break
    done
    _mig_port_release
    mig_log "server did not start; log tail:"
    tail -n 50 "$MIG_LOG" >&2
    return 1
}

# mig_start_cluster [EXTRA_CONF_LINE...]: mig_init_cluster + mig_start_server.
mig_start_cluster() {
    mig_init_cluster "$@" && mig_start_server
}

# For running a shell test by hand (bash test/x.sh): start a private cluster
# and remove it on exit, unless test/run's cluster is already there.  Sets an
# EXIT trap in the calling shell.  Does not build; run `make install` first.
mig_ensure_cluster() {
    if [[ -n ${MIG_WORK:-} ]] && mig_server_running; then
        return 0
    fi
    trap 'mig_stop_cluster' EXIT
    mig_start_cluster "$@"
}

# Is the server of $MIG_DATA running?
mig_server_running() {
    [[ -n ${MIG_DATA:-} && -d $MIG_DATA ]] &&
        _mig_as_postgres "$MIG_PGBIN/pg_ctl" -D "$MIG_DATA" status >/dev/null 2>&1
}

# Restart (e.g. after changing postgresql.conf); keeps the port.
mig_restart_cluster() {
    if mig_server_running; then
        _mig_as_postgres "$MIG_PGBIN/pg_ctl" -D "$MIG_DATA" -l "$MIG_LOG" -w -t 120 \
            -m fast restart >/dev/null
    else
        _mig_as_postgres "$MIG_PGBIN/pg_ctl" -D "$MIG_DATA" -l "$MIG_LOG" -w -t 120 \
            -o "-p $MIG_PORT" start >/dev/null
    fi
}

# Reload the configuration (SIGHUP).
mig_reload_cluster() {
    _mig_as_postgres "$MIG_PGBIN/pg_ctl" -D "$MIG_DATA" reload >/dev/null
}

# mig_conf LINE...: append lines to postgresql.conf (then reload or restart).
mig_conf() {
    local line
    for line in "$@"; do
        printf '%s\n' "${line//@MIG_WORK@/$MIG_WORK}" >>"$MIG_DATA/postgresql.conf"
    done
}

# Stop the server and remove the work dir.  Safe to call twice, or when no
# cluster was started (it is the EXIT trap of test/run and test/demo); does
# nothing in a process that did not start the cluster itself.
mig_stop_cluster() {
    [[ -n ${MIG_WORK:-} && -f $MIG_WORK/.mig_work ]] || return 0
    [[ ${MIG_WORK_OWNER:-} == "$$" ]] || return 0
    if [[ -f $MIG_DATA/postmaster.pid ]]; then
        _mig_as_postgres "$MIG_PGBIN/pg_ctl" -D "$MIG_DATA" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            _mig_as_postgres "$MIG_PGBIN/pg_ctl" -D "$MIG_DATA" -m immediate -w -t 60 stop >/dev/null 2>&1 ||
            true
    fi
    rm -rf "$MIG_WORK"
    MIG_WORK=
}

# The server log's size in bytes now: a mark to pass to mig_server_log_since.
mig_server_log_mark() {
    if [[ -n ${MIG_LOG:-} && -f $MIG_LOG ]]; then
        stat -c %s "$MIG_LOG"
    else
        echo 0
    fi
}

# mig_server_log_since MARK [MAX_LINES]: print what the server logged after
# MARK (from mig_server_log_mark), at most MAX_LINES (default 200) lines: the
# last ones, since a failure is usually logged at the end.
mig_server_log_since() {
    local mark=${1:-0} max=${2:-200} n
    [[ -n ${MIG_LOG:-} && -f $MIG_LOG ]] || return 0
    tail -c "+$((mark + 1))" "$MIG_LOG" >"$MIG_WORK/log_since" || return 0
    n=$(wc -l <"$MIG_WORK/log_since")
    if ((n == 0)); then
        printf -- '--- server log: nothing was logged during this test ---\n'
        return 0
    fi
    if ((n > max)); then
        printf -- '--- server log during this test (last %d of %d lines) ---\n' "$max" "$n"
    else
        printf -- '--- server log during this test (%d lines) ---\n' "$n"
    fi
    tail -n "$max" "$MIG_WORK/log_since"
}

# mig_own PATH...: hand files a test created to postgres, so the server can
# read them (and write, e.g. for COPY TO).
mig_own() {
    chown -hR postgres:postgres "$@"
}

# mig_newdb NAME: a fresh database NAME with pgtap and migrate installed,
# cloned from mig_template (made on first use) because CREATE DATABASE from
# a template is much faster than CREATE EXTENSION each time.
mig_newdb() {
    local name=$1 have
    have=$(mig_psql -d postgres -At -c "SELECT 1 FROM pg_database WHERE datname = 'mig_template'") || return 1
    if [[ $have != 1 ]]; then
        mig_psql -d postgres -c 'CREATE DATABASE mig_template' || return 1
        if ! mig_psql -d mig_template -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION migrate'; then
            # Do not leave a half-made template for the next caller to reuse.
            mig_psql -d postgres -c 'DROP DATABASE IF EXISTS mig_template WITH (FORCE)'
            return 1
        fi
    fi
    # psql -c does not expand :"var", so feed the statements on stdin.
    mig_psql -d postgres -v db="$name" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
CREATE DATABASE :"db" TEMPLATE mig_template;
SQL
}

# mig_dropdb NAME
mig_dropdb() {
    mig_psql -d postgres -v db="$1" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
SQL
}
