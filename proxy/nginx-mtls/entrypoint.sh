#!/usr/bin/env bash
# Renders the NGINX configuration from environment variables, then runs NGINX in the foreground.
#
#   entrypoint.sh          render to $NGINX_CONF, check the files, wait for the upstream name,
#                          exec nginx -g 'daemon off;' (the container's main process)
#   entrypoint.sh render   print the rendered configuration on stdout (tests use this)
#   entrypoint.sh ARGS...  anything else is exec'd as is (e.g. `bash`)
#
# Every value is checked against a narrow pattern before it is substituted, so an environment
# variable cannot smuggle extra directives into the configuration.
set -euo pipefail

TEMPLATE=${NGINX_TEMPLATE:-/etc/nginx-mtls/nginx.conf.template}
NGINX_RUN_DIR=${NGINX_RUN_DIR:-/tmp/nginx-mtls}
NGINX_CONF=${NGINX_CONF:-$NGINX_RUN_DIR/nginx.conf}

die() {
    echo "nginx-mtls: $*" >&2
    exit 64
}

log() {
    echo "nginx-mtls: $*" >&2
}

# check NAME REGEX DESCRIPTION: the variable's value must match the whole pattern.
check() {
    local name=$1 pattern=$2 what=$3
    [[ ${!name} =~ ^($pattern)$ ]] || die "$name='${!name}' is not $what"
}

PATH_RE='/[A-Za-z0-9._/-]*'
HOST_RE='[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]'
PORT_RE='[0-9]{1,5}'
TIME_RE='[0-9]+(ms|s|m|h|d)?'

settings() {
    UPSTREAM_URL=${UPSTREAM_URL:?UPSTREAM_URL is required, e.g. http://vpce-apigw:8080/prod}
    SERVER_NAME=${SERVER_NAME:-localhost}
    TLS_CERT=${TLS_CERT:-/certs/server.crt}
    TLS_KEY=${TLS_KEY:-/certs/server.key}
    CLIENT_CA=${CLIENT_CA:-/certs/ca.crt}
    CLIENT_CRL=${CLIENT_CRL:-}
    VERIFY_DEPTH=${VERIFY_DEPTH:-2}
    LISTEN_ADDRESS=${LISTEN_ADDRESS:-}
    LISTEN_PORT=${LISTEN_PORT:-8443}
    HEALTH_ADDRESS=${HEALTH_ADDRESS:-127.0.0.1}
    HEALTH_PORT=${HEALTH_PORT:-8081}
    RESOLVER=${RESOLVER:-127.0.0.11 valid=10s ipv6=off}
    UPSTREAM_RESOLVE=${UPSTREAM_RESOLVE:-auto}
    UPSTREAM_WAIT_SECONDS=${UPSTREAM_WAIT_SECONDS:-60}
    UPSTREAM_KEEPALIVE=${UPSTREAM_KEEPALIVE:-32}
    UPSTREAM_KEEPALIVE_TIMEOUT=${UPSTREAM_KEEPALIVE_TIMEOUT:-4s}
    UPSTREAM_SSL_VERIFY=${UPSTREAM_SSL_VERIFY:-on}
    UPSTREAM_CA=${UPSTREAM_CA:-/etc/ssl/certs/ca-certificates.crt}
    CLIENT_MAX_BODY_SIZE=${CLIENT_MAX_BODY_SIZE:-10m}
    PROXY_CONNECT_TIMEOUT=${PROXY_CONNECT_TIMEOUT:-5s}
    PROXY_TIMEOUT=${PROXY_TIMEOUT:-60s}
    SSL_SESSION_TIMEOUT=${SSL_SESSION_TIMEOUT:-10m}
    WORKER_PROCESSES=${WORKER_PROCESSES:-auto}
    ERROR_LOG_LEVEL=${ERROR_LOG_LEVEL:-warn}
    HEADERS_MORE_MODULE=${HEADERS_MORE_MODULE:-$(nginx_modules_path)/$HEADERS_MORE_FILE}

    check SERVER_NAME '[A-Za-z0-9_.*-]+( [A-Za-z0-9_.*-]+)*' "a list of server names"
    for var in TLS_CERT TLS_KEY CLIENT_CA UPSTREAM_CA NGINX_RUN_DIR HEADERS_MORE_MODULE; do
        check "$var" "$PATH_RE" "an absolute path"
    done
    [[ -z $CLIENT_CRL ]] || check CLIENT_CRL "$PATH_RE" "an absolute path"
    check VERIFY_DEPTH '[0-9]+' "a number"
    check LISTEN_PORT "$PORT_RE" "a port"
    check HEALTH_PORT "$PORT_RE" "a port"
    [[ -z $LISTEN_ADDRESS ]] || check LISTEN_ADDRESS "$HOST_RE" "an address"
    check HEALTH_ADDRESS "$HOST_RE" "an address"
    check RESOLVER '[][A-Za-z0-9.:=]+( [][A-Za-z0-9.:=]+)*' "a resolver list"
    check UPSTREAM_RESOLVE 'auto|on|off' "auto, on or off"
    check UPSTREAM_WAIT_SECONDS '[0-9]+' "a number of seconds"
    check UPSTREAM_KEEPALIVE '[0-9]+' "a number"
    check UPSTREAM_SSL_VERIFY 'on|off' "on or off"
    check CLIENT_MAX_BODY_SIZE '[0-9]+[kKmMgG]?' "a size"
    for var in UPSTREAM_KEEPALIVE_TIMEOUT PROXY_CONNECT_TIMEOUT PROXY_TIMEOUT SSL_SESSION_TIMEOUT; do
        check "$var" "$TIME_RE" "a time"
    done
    check WORKER_PROCESSES 'auto|[0-9]+' "auto or a number"
    check ERROR_LOG_LEVEL 'debug|info|notice|warn|error|crit' "a log level"

    # UPSTREAM_URL = scheme://host[:port][/base/path]
    [[ $UPSTREAM_URL =~ ^(https?)://($HOST_RE)(:($PORT_RE))?($PATH_RE)?$ ]] ||
        die "UPSTREAM_URL='$UPSTREAM_URL' is not http(s)://host[:port][/base/path]"
    UPSTREAM_SCHEME=${BASH_REMATCH[1]}
    UPSTREAM_HOSTNAME=${BASH_REMATCH[2]}
    local port=${BASH_REMATCH[5]} base=${BASH_REMATCH[6]}
    if [[ -z $port ]]; then
        if [[ $UPSTREAM_SCHEME == https ]]; then port=443; else port=80; fi
    fi
    UPSTREAM_PORT=$port
    # "/prod/" and "/prod" both mean: /dogs is sent as /prod/dogs.
    while [[ $base == */ ]]; do base=${base%/}; done
    UPSTREAM_BASE_PATH=$base

    UPSTREAM_HOST=${UPSTREAM_HOST:-$UPSTREAM_HOSTNAME}
    check UPSTREAM_HOST "($HOST_RE)(:$PORT_RE)?" "a host name (with an optional port)"
    # SNI is the host name alone.
    UPSTREAM_SNI=${UPSTREAM_HOST%:*}
    if [[ $UPSTREAM_HOST == \[* ]]; then UPSTREAM_SNI=${UPSTREAM_HOST%%]*}]; fi
}

# The headers-more module drops the client's X-Client-Cert-* headers (see the template).
HEADERS_MORE_FILE=ngx_http_headers_more_filter_module.so

nginx_modules_path() {
    # Where this NGINX build keeps its dynamic modules (`nginx -V` names it; Debian's package and
    # nginx.org's both use /usr/lib/nginx/modules, which is also the fallback without nginx).
    local path
    path=$(nginx -V 2>&1 | sed -n 's|.*--modules-path=\([^ ]*\).*|\1|p') || path=""
    echo "${path:-/usr/lib/nginx/modules}"
}

is_ip() {
    [[ $1 =~ ^[0-9.]+$ || $1 == \[* ]]
}

nginx_supports_upstream_resolve() {
    # The `resolve` parameter of an upstream server is in open-source NGINX from 1.27.3.
    local version
    version=$(nginx -v 2>&1 | sed -n 's|^nginx version: nginx/\([0-9.]*\).*|\1|p')
    [[ -n $version ]] && [[ $(printf '%s\n' 1.27.3 "$version" | sort -V | head -n1) == 1.27.3 ]]
}

derive() {
    local resolve=$UPSTREAM_RESOLVE
    if [[ $resolve == auto ]]; then
        resolve=off
        if ! is_ip "$UPSTREAM_HOSTNAME" && nginx_supports_upstream_resolve; then resolve=on; fi
    fi
    UPSTREAM_RESOLVE_EFFECTIVE=$resolve

    UPSTREAM_SERVER="$UPSTREAM_HOSTNAME:$UPSTREAM_PORT"
    UPSTREAM_ZONE=""
    UPSTREAM_RESOLVER=""
    if [[ $resolve == on ]]; then
        # The name is looked up by NGINX's resolver at run time and re-resolved as DNS changes,
        # so NGINX starts before the upstream exists and follows a real endpoint's address.
        UPSTREAM_SERVER+=" resolve"
        UPSTREAM_ZONE="        zone mtls_upstream 64k;"
        UPSTREAM_RESOLVER="    resolver $RESOLVER;"
    fi

    SSL_CRL=""
    [[ -z $CLIENT_CRL ]] || SSL_CRL="        ssl_crl $CLIENT_CRL;"

    UPSTREAM_TLS=""
    if [[ $UPSTREAM_SCHEME == https ]]; then
        UPSTREAM_TLS="            proxy_ssl_server_name on;
            proxy_ssl_name $UPSTREAM_SNI;
            proxy_ssl_protocols TLSv1.2 TLSv1.3;
            proxy_ssl_session_reuse on;
            proxy_ssl_verify $UPSTREAM_SSL_VERIFY;
            proxy_ssl_verify_depth 4;
            proxy_ssl_trusted_certificate $UPSTREAM_CA;"
    fi

    TLS_LISTEN="${LISTEN_ADDRESS:+$LISTEN_ADDRESS:}$LISTEN_PORT"
    HEALTH_LISTEN="$HEALTH_ADDRESS:$HEALTH_PORT"
}

# The only names envsubst replaces (literal on purpose: envsubst reads the list itself).
# shellcheck disable=SC2016
SUBSTITUTED='${WORKER_PROCESSES} ${NGINX_RUN_DIR} ${ERROR_LOG_LEVEL} ${CLIENT_MAX_BODY_SIZE}
${UPSTREAM_RESOLVER} ${UPSTREAM_ZONE} ${UPSTREAM_SERVER} ${UPSTREAM_KEEPALIVE}
${UPSTREAM_KEEPALIVE_TIMEOUT} ${HEALTH_LISTEN} ${TLS_LISTEN} ${SERVER_NAME} ${TLS_CERT}
${TLS_KEY} ${SSL_SESSION_TIMEOUT} ${CLIENT_CA} ${VERIFY_DEPTH} ${SSL_CRL} ${UPSTREAM_SCHEME}
${UPSTREAM_BASE_PATH} ${UPSTREAM_HOST} ${PROXY_CONNECT_TIMEOUT} ${PROXY_TIMEOUT} ${UPSTREAM_TLS}
${HEADERS_MORE_MODULE}'

render() {
    settings
    derive
    export WORKER_PROCESSES NGINX_RUN_DIR ERROR_LOG_LEVEL CLIENT_MAX_BODY_SIZE UPSTREAM_RESOLVER \
        UPSTREAM_ZONE UPSTREAM_SERVER UPSTREAM_KEEPALIVE UPSTREAM_KEEPALIVE_TIMEOUT HEALTH_LISTEN \
        TLS_LISTEN SERVER_NAME TLS_CERT TLS_KEY SSL_SESSION_TIMEOUT CLIENT_CA VERIFY_DEPTH SSL_CRL \
        UPSTREAM_SCHEME UPSTREAM_BASE_PATH UPSTREAM_HOST PROXY_CONNECT_TIMEOUT PROXY_TIMEOUT \
        UPSTREAM_TLS HEADERS_MORE_MODULE
    envsubst "$SUBSTITUTED" <"$TEMPLATE"
}

check_files() {
    local var
    for var in TLS_CERT TLS_KEY CLIENT_CA ${CLIENT_CRL:+CLIENT_CRL}; do
        [[ -r ${!var} ]] || die "$var=${!var} is missing or not readable by uid $(id -u)" \
            "(certificates come from tools/certgen; run as root it gives server.key to uid 10001)"
    done
    # Without the module NGINX would not start; say why, and what to install.
    [[ -r $HEADERS_MORE_MODULE ]] ||
        die "HEADERS_MORE_MODULE=$HEADERS_MORE_MODULE is missing: NGINX needs the headers-more" \
            "module (Debian: apt-get install libnginx-mod-http-headers-more-filter)"
    if [[ $UPSTREAM_SCHEME == https && $UPSTREAM_SSL_VERIFY == on && ! -r $UPSTREAM_CA ]]; then
        die "UPSTREAM_CA=$UPSTREAM_CA is missing or not readable"
    fi
}

wait_for_upstream_name() {
    # Without `resolve`, NGINX looks the upstream name up once, at start and at each reload, and
    # refuses to start if it does not resolve: wait (bounded) for it, e.g. for the gateway's
    # container to join the network.
    [[ $UPSTREAM_RESOLVE_EFFECTIVE == off ]] && ! is_ip "$UPSTREAM_HOSTNAME" || return 0
    local deadline=$((SECONDS + UPSTREAM_WAIT_SECONDS))
    until getent hosts "$UPSTREAM_HOSTNAME" >/dev/null; do
        ((SECONDS < deadline)) ||
            die "upstream host $UPSTREAM_HOSTNAME did not resolve within ${UPSTREAM_WAIT_SECONDS}s"
        sleep 1
    done
}

run() {
    mkdir -p "$NGINX_RUN_DIR"
    render >"$NGINX_CONF.tmp"
    mv "$NGINX_CONF.tmp" "$NGINX_CONF"
    check_files
    wait_for_upstream_name
    log "upstream $UPSTREAM_SCHEME://$UPSTREAM_SERVER$UPSTREAM_BASE_PATH (Host $UPSTREAM_HOST," \
        "resolve $UPSTREAM_RESOLVE_EFFECTIVE), TLS on ${TLS_LISTEN}, health on $HEALTH_LISTEN"
    exec nginx -e stderr -c "$NGINX_CONF" -g 'daemon off;'
}

case "${1:-run}" in
run) run ;;
render) render ;;
*) exec "$@" ;;
esac
