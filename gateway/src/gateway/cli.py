"""`python -m gateway`: serve (no subcommand, or `serve`), and the policy tools: `check` (one
request's decision and why), `analyze` (who can call an API), `test-policies` (the
`*.policy-tests.yaml` files). Bad input is one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from gateway.access import Probe, ProbeError, Setup, judge
from gateway.config import HTTP_METHODS, ConfigError, load_config

ALLOWED, DENIED, BAD_INPUT = 0, 1, 2


def serve() -> int:
    """Serve every configured API with uvicorn on $HOST:$PORT (the image's and `make run`'s), and
    on each port an API has of its own (`apis.<name>.port`), in the same process."""
    import uvicorn

    from gateway.app import GatewayApp
    from gateway.server import GatewayHttpProtocol

    port = int(os.environ.get("PORT", "8080"))
    try:
        config = load_config()
        own_ports = config.own_ports()
        if port in own_ports:
            raise ConfigError(
                f"apis.{own_ports[port]}.port: {port} is the gateway's PORT too;"
                " give the API a port of its own"
            )
        app = GatewayApp(config)
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return BAD_INPUT
    server_config = uvicorn.Config(
        app,
        http=GatewayHttpProtocol,  # httptools with API Gateway's request-head limits
        host=os.environ.get("HOST", "127.0.0.1"),
        port=port,
        # The peer address decides the VPC endpoint: never let X-Forwarded-For rewrite it.
        proxy_headers=False,
        forwarded_allow_ips="",
        access_log=False,  # the gateway writes its own $context access log
        server_header=False,
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
        timeout_keep_alive=int(os.environ.get("KEEP_ALIVE_SECONDS", "75")),
        lifespan="on",
    )
    sockets = []
    for listen_port in (port, *own_ports):
        server_config.port = listen_port  # bind_socket binds (and logs) HOST:this port
        sockets.append(server_config.bind_socket())
    server_config.port = port
    # Everything built so far (the APIs, their policies and routes, the libraries: about 40,000
    # objects) lives as long as the process: left out of every garbage collection, so that the
    # collector's full passes (a pause of 10-25 ms each for the requests in flight, with those
    # objects in) only walk what requests leave behind. No gc.collect() first: it would add as
    # much to the cold start, for the little garbage of the start-up.
    gc.freeze()
    uvicorn.Server(server_config).run(sockets=sockets)
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _BadInput(message)


class _BadInput(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    commands.add_parser("serve", help="serve the configured APIs (the default)")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--config",
            help="the gateway's configuration (default: $GATEWAY_CONFIG, else the shipped one)",
        )
        sub.add_argument("--json", action="store_true", help="machine-readable output")

    check = commands.add_parser("check", help="one request's decision and why")
    check.add_argument("api", help="an API of the configuration: its name, id or document")
    check.add_argument("method")
    check.add_argument("path", help="the path below the stage, as sent, e.g. /todo/abc")
    who = check.add_mutually_exclusive_group()
    who.add_argument("--principal", help="anonymous, an account id, a role/user/session ARN")
    who.add_argument("--identity", help="a configured identity: access key id or principal ARN")
    check.add_argument("--vpce", help="the VPC endpoint it comes through")
    check.add_argument("--source-ip", help="the caller's address")
    check.add_argument("--time", help="ISO 8601 (default: now)")
    check.add_argument("--header", action="append", default=[], metavar="NAME=VALUE")
    common(check)

    analyze = commands.add_parser("analyze", help="who can call an API")
    analyze.add_argument("api", help="an API of the configuration: its name, id or document")
    analyze.add_argument("--time", help="ISO 8601, for time conditions (default: now)")
    common(analyze)

    tests = commands.add_parser("test-policies", help="run *.policy-tests.yaml files")
    tests.add_argument("files", nargs="*", type=Path, help="default: those next to the APIs")
    common(tests)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        return serve()
    try:
        args = _parser().parse_args(args_list)
    except _BadInput as exc:
        return _bad(args_list[0] if args_list[0] in _COMMANDS else None, str(exc))
    if args.command == "serve":
        return serve()
    try:
        setup = Setup(load_config(args.config) if args.config else load_config())
        return _COMMANDS[args.command](setup, args)
    except (ConfigError, ProbeError) as exc:
        return _bad(args.command, str(exc))
    except BrokenPipeError:  # the reader went away (`| head`): say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return DENIED


def _bad(command: str | None, message: str) -> int:
    one_line = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    prefix = f"gateway {command}" if command else "gateway"
    print(f"{prefix}: {one_line}", file=sys.stderr)
    return BAD_INPUT


def _check(setup: Setup, args: argparse.Namespace) -> int:
    from gateway.explain import explain
    from gateway.reports import check_json, check_text

    method = args.method.upper()
    if method not in HTTP_METHODS:
        raise ProbeError(f"{args.method!r} is not one of {', '.join(HTTP_METHODS)}")
    if not args.path.startswith("/"):
        raise ProbeError(f"{args.path!r}: the path must start with /")
    probe = Probe(
        method=method,
        path=args.path,
        time=_time(args.time),
        principal=args.principal,
        identity=args.identity,
        vpce=args.vpce,
        source_ip=args.source_ip,
        headers=_headers(args.header),
    )
    api = setup.api(args.api)
    request = setup.resolve(probe)
    verdict = judge(api, request)
    explanation = explain(api, request, verdict)
    if args.json:
        print(json.dumps(check_json(api, request, explanation), indent=2))
    else:
        sys.stdout.write(check_text(api, request, explanation))
    return ALLOWED if verdict.allowed else DENIED


def _analyze(setup: Setup, args: argparse.Namespace) -> int:
    from gateway.analysis import analyze
    from gateway.reports import analysis_json, analysis_text

    report = analyze(setup.api(args.api), setup, now=_time(args.time))
    if args.json:
        print(json.dumps(analysis_json(report), indent=2))
    else:
        sys.stdout.write(analysis_text(report))
    return 0


def _test_policies(setup: Setup, args: argparse.Namespace) -> int:
    from gateway.policytests import default_files, run_file

    files = args.files or default_files(setup)
    if not files:
        raise ConfigError("no *.policy-tests.yaml files next to the configured APIs' documents")
    failed = 0
    summary = []
    for path in files:
        result = run_file(setup, path)
        bad = len(result.failures)
        summary.append(
            {"file": str(path), "api": result.api.name, "cases": len(result.results), "failed": bad}
        )
        if not args.json:
            state = "ok" if not bad else f"{bad} FAILED"
            print(f"{path}: {len(result.results)} cases, {state}")
        if bad and not failed and not args.json:
            sys.stdout.write(result.failure_message())
        failed += bad
    if args.json:
        print(json.dumps(summary, indent=2))
    return DENIED if failed else ALLOWED


_COMMANDS = {"check": _check, "analyze": _analyze, "test-policies": _test_policies}


def _time(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ProbeError(f"--time {text!r} is not an ISO 8601 date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _headers(pairs: Sequence[str]) -> dict[str, str]:
    headers = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ProbeError(f"--header {pair!r}: expected NAME=VALUE")
        headers[name.strip().lower()] = value
    return headers
