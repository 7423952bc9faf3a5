#!/usr/bin/env bash
# The container's HEALTHCHECK: GET /health on the health port (200 while a target is in service).
# Uses bash's /dev/tcp because the Debian base has no curl or wget.
set -euo pipefail
exec 3<>"/dev/tcp/127.0.0.1/${NLB_HEALTH_PORT:-8081}"
printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 5 status <&3
[[ $status == "HTTP/1."?" 200 "* ]]
