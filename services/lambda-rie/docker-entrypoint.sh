#!/bin/sh
# The entry point of every function image (its CMD names the handler). On AWS Lambda the platform
# serves the Runtime API and sets AWS_LAMBDA_RUNTIME_API: run the runtime interface client, as
# every Lambda container image does. Anywhere else, run the local emulator (lambda_rie), which
# serves the invoke URL on $PORT and runs the same command as its child.
set -eu
HANDLER="${1:-${_HANDLER:-}}"
if [ -z "$HANDLER" ]; then
    echo "lambda-entrypoint: no handler: give module.function as the command or set _HANDLER" >&2
    exit 2
fi
if [ -n "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
    exec python -m awslambdaric "$HANDLER"
fi
exec python -m lambda_rie "$HANDLER"
