"""The reference proxy: NGINX as a plain reverse proxy (`proxy_pass`, upstream keep-alive) in
front of the same Dog Names process the gateway proxies to, run as the current user from the
bench's temporary directory (its configuration, pid file, logs and temporary files all there).

Logging is kept equal: the gateway writes one access line per request (to its log file in the
same directory), so NGINX does too (`access_log`, unbuffered, one write per request); with
`access_log=False` it logs nothing. Connection reuse is equal as well: the gateway (uvicorn)
never closes a client or upstream connection after a number of requests, so NGINX's
`keepalive_requests` (1000 by default, client side and upstream) is lifted, and its client
keep-alive timeout is the gateway's (KEEP_ALIVE_SECONDS, 75 s).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

NGINX_CANDIDATES = ("/usr/sbin/nginx",)
KEEPALIVE_REQUESTS = 1_000_000

ACCESS_FORMAT = (
    '\'{"requestId":"$request_id","ip":"$remote_addr","requestTime":"$time_iso8601",'
    '"httpMethod":"$request_method","path":"$uri","protocol":"$server_protocol",'
    '"status":"$status","responseLength":"$body_bytes_sent",'
    '"responseLatency":"$request_time","integrationLatency":"$upstream_response_time"}\''
)


def find_nginx() -> str | None:
    """The nginx binary: on PATH, else Debian's /usr/sbin/nginx; None when not installed."""
    found = shutil.which("nginx")
    if found:
        return found
    return next((c for c in NGINX_CANDIDATES if os.access(c, os.X_OK)), None)


@dataclass(frozen=True)
class NginxConfig:
    prefix: Path  # -p: the temporary directory
    listen_port: int
    upstream: str  # host:port of Dog Names
    access_log: bool = True

    @property
    def path(self) -> Path:
        return self.prefix / "nginx.conf"

    def render(self) -> str:
        tmp = self.prefix
        user = ""
        if os.geteuid() == 0:  # as root NGINX would switch its worker to `nobody`
            user = (
                f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
            )
        access = (
            f"log_format bench escape=json {ACCESS_FORMAT};\n"
            f"    access_log {tmp}/nginx-access.log bench;"
            if self.access_log
            else "access_log off;"
        )
        return f"""# written by bench/nginx.py: a plain reverse proxy in front of Dog Names
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    {access}
    client_body_temp_path {tmp}/nginx-client-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    keepalive_timeout 75s;
    keepalive_requests {KEEPALIVE_REQUESTS};

    upstream dog_names {{
        server {self.upstream};
        keepalive 32;
        keepalive_requests {KEEPALIVE_REQUESTS};
    }}

    server {{
        listen 127.0.0.1:{self.listen_port};
        location / {{
            proxy_pass http://dog_names;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""

    def write(self) -> Path:
        self.path.write_text(self.render())
        return self.path

    def argv(self, binary: str) -> list[str]:
        return [
            binary,
            *("-p", str(self.prefix), "-c", str(self.path)),
            *("-e", str(self.prefix / "nginx-error.log")),  # also before the file is read
            *("-g", "daemon off;"),
        ]
