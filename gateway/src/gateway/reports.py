"""What the policy tools print: `check`'s explanation and `analyze`'s table, as text for people
and as JSON for machines (`--json`). Plain values in, strings and dicts out."""

from __future__ import annotations

from typing import Any

from gateway.access import Request
from gateway.analysis import ACROSS_ACCOUNTS, CELL_MEANINGS, Report
from gateway.apis import Api
from gateway.explain import Element, Explanation, PolicyResult, StatementResult, route_of
from gateway.facts import key_name
from gateway.policy import request_values

# --- check ------------------------------------------------------------------------------------


def check_text(api: Api, request: Request, explanation: Explanation) -> str:
    verdict = explanation.verdict
    head = "ALLOW" if verdict.allowed else "UNDECIDED" if verdict.undecided else "DENY"
    lines = [f"{head} {request.method} {request.path} on {api.name} ({api.id})"]
    lines.append(f"  rule      {verdict.rule}: {explanation.reason}")
    if verdict.answer is not None:
        lines.append(f"  answer    {verdict.answer.status} {verdict.answer.body.decode()}")
    lines.append("request")
    lines.extend(f"  {name:<21} {value}" for name, value in _facts(request, explanation))
    if not explanation.policies:
        lines.append("policies: not evaluated")
    for result in explanation.policies:
        title = "resource policy" if result.name == "resource" else f"{result.name} policy"
        lines.append(f"{title}: {result.decision}")
        for s in result.statements:
            state = "APPLIES" if s.applies else "does not apply"
            lines.append(f"  {s.statement.label} ({s.statement.effect}): {state}")
            lines.append(f"    {_mark(s.principal)} principal  {s.principal.why}")
            lines.append(f"    {_mark(s.action)} action     {s.action.why}")
            lines.append(f"    {_mark(s.resource)} resource   {s.resource.why}")
            for c in s.conditions:
                lines.append(f"    {'+' if c.holds else '-'} condition  {c.operator} {c.why}")
    return "\n".join(lines) + "\n"


def _mark(element: Element) -> str:
    return "+" if element.holds else "-"


def _facts(request: Request, explanation: Explanation) -> list[tuple[str, str]]:
    verdict = explanation.verdict
    facts = [("route", route_of(verdict))]
    evaluated = verdict.ctx is not None
    caller = verdict.authenticated if evaluated else request.caller
    if verdict.ctx is not None:
        facts.append(("resource", verdict.ctx.resource))
    if caller is not None:
        facts.append(("caller", f"{caller.arn} (account {caller.account})"))
    elif request.caller is not None:
        facts.append(("caller", "anonymous: the route has no IAM auth, the gateway ignores SigV4"))
    else:
        facts.append(("caller", "anonymous"))
    if verdict.ctx is None:
        facts.append(("aws:SourceVpce", request.vpce_id or "(none)"))
        facts.append(("aws:SourceIp", request.source_ip or "(none)"))
        return facts
    for key, values in sorted(request_values(verdict.ctx).items()):
        facts.append((key_name(key), ", ".join(values)))
    return facts


def check_json(api: Api, request: Request, explanation: Explanation) -> dict[str, Any]:
    verdict = explanation.verdict
    decided, ctx, answer = verdict.authorization, verdict.ctx, verdict.answer
    return {
        "api": api.name,
        "apiId": api.id,
        "method": request.method,
        "path": request.path,
        "decision": "allow" if verdict.allowed else "undecided" if verdict.undecided else "deny",
        "explicit": verdict.explicit,
        "rule": verdict.rule,
        "reason": explanation.reason,
        "status": answer.status if answer else None,
        "answer": answer.body.decode() if answer else None,
        "route": route_of(verdict) if verdict.match else None,
        "caller": verdict.authenticated.arn if verdict.authenticated else None,
        "resource": ctx.resource if ctx else None,
        "conditionKeys": (
            {key_name(k): list(v) for k, v in sorted(request_values(ctx).items())} if ctx else None
        ),
        "decidingStatements": decided.deciding_statements() if decided else [],
        "policies": [_policy_json(p) for p in explanation.policies],
    }


def _policy_json(result: PolicyResult) -> dict[str, Any]:
    return {
        "policy": result.name,
        "decision": result.decision,
        "statements": [_statement_json(s) for s in result.statements],
    }


def _statement_json(s: StatementResult) -> dict[str, Any]:
    def element(e: Element) -> dict[str, Any]:
        return {"holds": e.holds, "why": e.why}

    return {
        "index": s.statement.index,
        "sid": s.statement.sid,
        "effect": s.statement.effect,
        "applies": s.applies,
        "principal": element(s.principal),
        "action": element(s.action),
        "resource": element(s.resource),
        "conditions": [
            {
                "operator": c.operator,
                "key": c.key,
                "values": list(c.values),
                "requestValues": list(c.request_values),
                "holds": c.holds,
                "why": c.why,
            }
            for c in s.conditions
        ],
    }


# --- analyze ----------------------------------------------------------------------------------


def analysis_text(report: Report) -> str:
    api = report.api
    kind = "HTTP" if api.http_api else "REST"
    endpoint = "PRIVATE" if api.private else "REGIONAL"
    routes = api.routes.routes
    lines = [
        f"{api.name} ({api.id}): {endpoint} {kind} API of account {api.account}, stage {api.stage}"
    ]
    iam = [f"{r.method} {r.resource_path}" for r in routes if r.data.iam_auth]
    lambdas = [f"{r.method} {r.resource_path}" for r in routes if r.data.authorizer is not None]
    if iam and len(iam) == len(routes):
        lines.append("  auth: AWS_IAM (SigV4) on every route")
    elif iam:
        lines.append(f"  auth: AWS_IAM (SigV4) on {', '.join(iam)}; none on the others")
    else:
        lines.append("  auth: no IAM auth (callers are anonymous)")
    if lambdas:
        lines.append(f"  Lambda authorizer on: {', '.join(lambdas)}")
    policy = api.resource_policy
    statements = ", ".join(s.label for s in policy.statements) if policy else "none"
    lines.append(f"  resource policy: {statements}")
    lines.append("callers (from the policy's own values)")
    for _, classes in report.dimensions:
        lines.extend(f"  {c.code:<4}{c.label}" for c in classes)
    lines.append("who may call")
    width = max([len("route"), *(len(row.label) for row in report.rows)])
    widths = [max(len(c.code), 5) for c in report.columns]
    header = "".join(f"  {c.code:<{w}}" for c, w in zip(report.columns, widths, strict=True))
    lines.append(f"  {'route':<{width}}{header}".rstrip())
    for row in report.rows:
        cells = "".join(f"  {cell:<{w}}" for cell, w in zip(row.cells, widths, strict=True))
        lines.append(f"  {row.label:<{width}}{cells}".rstrip())
    for cell, text in cell_meanings(report).items():
        lines.append(f"  {cell:<7}{text}")
    lines.append("findings")
    lines.extend(f"  ! {finding.message}" for finding in report.findings)
    if not report.findings:
        lines.append("  none")
    lines.append("not analysed exactly")
    lines.extend(f"  {label}: {why}" for label, why in report.inexact)
    if not report.inexact:
        lines.append("  none: every statement is analysed exactly")
    return "\n".join(lines) + "\n"


def cell_meanings(report: Report) -> dict[str, str]:
    """What the cells of the table say, those it uses."""
    used = {cell for row in report.rows for cell in row.cells}
    iam = any(route.data.iam_auth for route in report.api.routes.routes)
    meanings = {cell: text for cell, text in CELL_MEANINGS.items() if cell in used}
    if "allow" in meanings and iam:
        meanings["allow"] += ACROSS_ACCOUNTS
    return meanings


def analysis_json(report: Report) -> dict[str, Any]:
    api = report.api
    return {
        "api": api.name,
        "apiId": api.id,
        "private": api.private,
        "classes": {
            name: [{"code": c.code, "label": c.label, "named": c.named} for c in classes]
            for name, classes in report.dimensions
        },
        "columns": [c.code for c in report.columns],
        "rows": [
            {
                "route": row.resource_path,
                "methods": list(row.methods),
                "paths": row.paths,
                "example": row.example,
                "cells": dict(zip((c.code for c in report.columns), row.cells, strict=True)),
            }
            for row in report.rows
        ],
        "cellMeanings": cell_meanings(report),
        "findings": [
            {"kind": f.kind, "statement": f.statement, "message": f.message}
            for f in report.findings
        ],
        "inexact": [{"statement": label, "why": why} for label, why in report.inexact],
    }
