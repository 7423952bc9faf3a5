"""The rendering step of entrypoint.sh: what each setting turns into, and what it refuses."""

import re
import subprocess
from pathlib import Path

import pytest
from nginx_mtls_harness import render

BASE = {"UPSTREAM_URL": "http://vpce-apigw:8080/prod"}


def directives(text: str) -> list[str]:
    """Non-comment lines, stripped: one directive or brace per entry."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def rendered(**env: str) -> list[str]:
    result = render({**BASE, **env})
    assert result.returncode == 0, result.stderr
    assert "${" not in result.stdout
    return directives(result.stdout)


def test_defaults() -> None:
    lines = rendered()
    for expected in [
        "server vpce-apigw:8080;",
        "keepalive 32;",
        "listen 8443 ssl default_server;",
        "listen 127.0.0.1:8081;",
        "server_name localhost;",
        "ssl_certificate /certs/server.crt;",
        "ssl_certificate_key /certs/server.key;",
        "ssl_client_certificate /certs/ca.crt;",
        "ssl_verify_client on;",
        "ssl_verify_depth 2;",
        "ssl_protocols TLSv1.2 TLSv1.3;",
        "ssl_session_tickets off;",
        "client_max_body_size 10m;",
        "proxy_pass http://mtls_upstream/prod$request_uri;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host vpce-apigw;",
        "proxy_set_header X-Client-Cert-Subject $ssl_client_s_dn;",
        "proxy_set_header X-Client-Cert-Verify $ssl_client_verify;",
        # Every client header under that prefix is dropped (headers-more), "_" names by NGINX.
        "load_module /usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so;",
        "more_clear_input_headers 'X-Client-Cert-*';",
        "underscores_in_headers off;",
        "ignore_invalid_headers on;",
        "pid /tmp/nginx-mtls/nginx.pid;",
        "worker_processes auto;",
    ]:
        assert expected in lines
    joined = "\n".join(lines)
    # Debian's nginx 1.22 has no upstream `resolve`: the name is resolved at start instead.
    assert "resolve" not in joined.replace("resolver", "")
    assert "ssl_crl" not in joined
    assert "proxy_ssl" not in joined


@pytest.mark.parametrize(
    ("url", "server", "proxy_pass", "host"),
    [
        (
            "http://vpce-apigw:8080/prod",
            "vpce-apigw:8080",
            "http://mtls_upstream/prod",
            "vpce-apigw",
        ),
        (
            "http://vpce-apigw:8080/prod/",
            "vpce-apigw:8080",
            "http://mtls_upstream/prod",
            "vpce-apigw",
        ),
        ("http://gw/", "gw:80", "http://mtls_upstream", "gw"),
        ("http://gw", "gw:80", "http://mtls_upstream", "gw"),
        (
            "https://api.example.test/v1/x",
            "api.example.test:443",
            "https://mtls_upstream/v1/x",
            "api.example.test",
        ),
        ("http://10.0.0.7:9000/stage", "10.0.0.7:9000", "http://mtls_upstream/stage", "10.0.0.7"),
    ],
)
def test_upstream_url(url: str, server: str, proxy_pass: str, host: str) -> None:
    lines = rendered(UPSTREAM_URL=url)
    assert f"server {server};" in lines
    assert f"proxy_pass {proxy_pass}$request_uri;" in lines
    assert f"proxy_set_header Host {host};" in lines


def test_upstream_host_sets_host_and_sni() -> None:
    lines = rendered(
        UPSTREAM_URL="https://vpce-0123.execute-api.us-east-1.vpce.amazonaws.com/prod",
        UPSTREAM_HOST="mtlsapi001.execute-api.us-east-1.amazonaws.com",
    )
    assert "proxy_set_header Host mtlsapi001.execute-api.us-east-1.amazonaws.com;" in lines
    assert "proxy_ssl_server_name on;" in lines
    assert "proxy_ssl_name mtlsapi001.execute-api.us-east-1.amazonaws.com;" in lines
    assert "proxy_ssl_verify on;" in lines
    assert "proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;" in lines


def test_host_with_port_keeps_the_port_in_host_but_not_in_sni() -> None:
    lines = rendered(UPSTREAM_URL="https://gw:8443", UPSTREAM_HOST="api.example.test:8443")
    assert "proxy_set_header Host api.example.test:8443;" in lines
    assert "proxy_ssl_name api.example.test;" in lines


def test_crl_only_when_set() -> None:
    assert "ssl_crl /certs/ca.crl;" in rendered(CLIENT_CRL="/certs/ca.crl")


def test_headers_more_module_path_can_be_set() -> None:
    lines = rendered(
        HEADERS_MORE_MODULE="/opt/nginx/modules/ngx_http_headers_more_filter_module.so"
    )
    assert "load_module /opt/nginx/modules/ngx_http_headers_more_filter_module.so;" in lines


def test_resolve_on_renders_dynamic_upstream() -> None:
    lines = rendered(UPSTREAM_RESOLVE="on", RESOLVER="10.0.0.2 valid=30s")
    assert "resolver 10.0.0.2 valid=30s;" in lines
    assert "zone mtls_upstream 64k;" in lines
    assert "server vpce-apigw:8080 resolve;" in lines


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("UPSTREAM_URL", "ftp://gw/prod"),
        ("UPSTREAM_URL", "http://gw/prod; return 200"),
        ("UPSTREAM_URL", "http://gw/$host"),
        ("UPSTREAM_URL", "gw:8080"),
        ("UPSTREAM_HOST", "gw; include /etc/passwd"),
        ("SERVER_NAME", "a; ssl_verify_client off"),
        ("LISTEN_PORT", "8443 ssl; listen 80"),
        ("TLS_CERT", "relative/server.crt"),
        ("CLIENT_CRL", "/certs/ca.crl;"),
        ("VERIFY_DEPTH", "two"),
        ("CLIENT_MAX_BODY_SIZE", "10m; x"),
        ("UPSTREAM_RESOLVE", "maybe"),
        ("RESOLVER", "1.1.1.1; x"),
        ("PROXY_TIMEOUT", "60 s"),
        ("HEADERS_MORE_MODULE", "/m.so; daemon on"),
    ],
)
def test_values_that_could_inject_directives_are_refused(name: str, value: str) -> None:
    result = render({**BASE, name: value})
    assert result.returncode == 64
    assert result.stdout == ""
    assert result.stderr.startswith(f"nginx-mtls: {name}=")


def test_upstream_url_is_required() -> None:
    result = render({})
    assert result.returncode != 0
    assert "UPSTREAM_URL is required" in result.stderr


def test_every_placeholder_in_the_template_is_substituted() -> None:
    template = (Path(__file__).parent.parent / "nginx.conf.template").read_text()
    placeholders = set(re.findall(r"\$\{([A-Z_]+)\}", template))
    entrypoint = (Path(__file__).parent.parent / "entrypoint.sh").read_text()
    listed = set(
        re.findall(r"\$\{([A-Z_]+)\}", entrypoint.split("SUBSTITUTED='", 1)[1].split("'")[0])
    )
    assert placeholders == listed


def test_rendered_config_passes_nginx_t(tmp_path: Path, certs: Path, nginx_binary: str) -> None:
    result = render(
        {
            **BASE,
            "UPSTREAM_URL": "https://127.0.0.1:9/prod",
            "NGINX_RUN_DIR": str(tmp_path),
            "TLS_CERT": str(certs / "server.crt"),
            "TLS_KEY": str(certs / "server.key"),
            "CLIENT_CA": str(certs / "ca.crt"),
            "CLIENT_CRL": str(certs / "ca.crl"),
            "UPSTREAM_CA": str(certs / "ca.crt"),
        }
    )
    assert result.returncode == 0, result.stderr
    conf = tmp_path / "nginx.conf"
    conf.write_text(result.stdout)
    check = subprocess.run(
        [nginx_binary, "-e", "stderr", "-t", "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert check.returncode == 0, check.stderr
    assert "test is successful" in check.stderr
