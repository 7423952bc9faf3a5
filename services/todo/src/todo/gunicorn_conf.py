"""gunicorn settings (`-c python:todo.gunicorn_conf`): HOST, PORT, WEB_CONCURRENCY, LOG_LEVEL."""

import os
from typing import Any

_host = os.environ.get("HOST", "127.0.0.1")
if ":" in _host and not _host.startswith("["):
    _host = f"[{_host}]"  # an IPv6 address

bind = [f"{_host}:{int(os.environ.get('PORT', '8080'))}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
# Sync workers close every connection after its response (`Connection: close`) and ignore this;
# it applies if the worker class ever changes to one that keeps connections (gthread).
keepalive = 5
# Connections waiting for a worker: gunicorn's default, far above the 32-64 in-flight requests
# the gateway and the bench send.
backlog = 2048

# The app writes its own JSON access line per request; gunicorn's errors and lifecycle go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")

# No runtime control socket: it would need a writable $HOME and one path per instance.
control_socket_disable = True

# Worker heartbeats on tmpfs where there is one: gunicorn's advice for containers, whose /tmp may
# sit on a slow overlay file system. Only the heartbeat file goes there.
_SHM = "/dev/shm"  # noqa: S108
if os.path.isdir(_SHM) and os.access(_SHM, os.W_OK):
    worker_tmp_dir = _SHM


def on_starting(server: Any) -> None:
    """Checks the settings, creates the schema (or the local table) and checks that the store
    takes writes, once, in the master, before any worker starts.

    A bad setting, a read-only database or a DynamoDB table that is not there then stops gunicorn
    with one clear message instead of failing every worker (or every POST).
    """
    # todo.app (Flask and the app's modules) is imported once, here: every worker forked from
    # this process has it already (no import per worker at boot, and its pages are shared).
    import todo.app  # noqa: F401
    from todo.config import ConfigError, load_config
    from todo.storage import StorageError, create_store

    try:
        store = create_store(load_config())
        try:
            store.ping()
        finally:
            store.close()
    except (ConfigError, StorageError) as exc:
        server.log.error("todo cannot start: %s", exc)
        raise SystemExit(1) from None
