"""The substitution table (deploy/values.yaml) and the one way it is applied.

The API documents go into AWS unchanged but for their named local values: each `kind: document`
entry's local value is replaced, as a whole word, by its deployed counterpart, in every string of
the loaded document. Deployed values may be CDK tokens (a VPC link's id, a listener's ARN): a
token inside a string is rendered by CDK as a CloudFormation expression, so the template carries
the document with references where the local values were.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TABLE_FILE = Path(__file__).resolve().parents[2] / "values.yaml"
GATEWAY_CONFIG = Path(__file__).resolve().parents[3] / "gateway" / "config" / "gateway.yaml"
KINDS = ("document", "stage-variable", "config")


@dataclass(frozen=True)
class NamedValue:
    name: str
    kind: str
    local: str
    appears_in: tuple[str, ...]
    what: str
    context: str | None = None  # the cdk context key that gives the deployed value
    output: str | None = None  # "<Stack>.<OutputKey>" that shows (or gives) it

    @property
    def output_stack(self) -> str | None:
        return self.output.split(".", 1)[0] if self.output else None

    @property
    def output_key(self) -> str | None:
        return self.output.split(".", 1)[1] if self.output else None


@dataclass(frozen=True)
class Table:
    values: Mapping[str, NamedValue]
    local_only: tuple[str, ...]

    def __getitem__(self, name: str) -> NamedValue:
        return self.values[name]

    def of_kind(self, kind: str) -> list[NamedValue]:
        return [value for value in self.values.values() if value.kind == kind]

    def names_in(self, document: Any) -> list[str]:
        """The named values (kind document) whose local value `document` holds."""
        return [v.name for v in self.of_kind("document") if _mentions(document, v.local)]

    def substitute(self, document: Any, deployed: Mapping[str, str]) -> Any:
        """`document` with the local value of each named value it holds replaced by the deployed
        one from `deployed` (name -> value; names the document does not hold are ignored).
        Raises ValueError for a name that is not a document value of the table, and when the
        document holds a local value `deployed` does not give: it would otherwise reach AWS as
        the local placeholder."""
        for name in deployed:
            if name not in self.values or self.values[name].kind != "document":
                raise ValueError(f"{name!r} is not a document value of {TABLE_FILE.name}")
        used = self.names_in(document)
        missing = [name for name in used if name not in deployed]
        if missing:
            raise ValueError(f"no deployed value for {', '.join(missing)} (deploy/values.yaml)")
        return _replace(document, {self.values[n].local: deployed[n] for n in used})


def load_table(path: Path = TABLE_FILE) -> Table:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    values: dict[str, NamedValue] = {}
    for name, entry in raw["values"].items():
        if entry["kind"] not in KINDS:
            raise ValueError(f"{path.name}: values.{name}.kind must be one of {', '.join(KINDS)}")
        if not entry.get("context") and not entry.get("output"):
            raise ValueError(f"{path.name}: values.{name} needs a context key or an output")
        values[name] = NamedValue(
            name=name,
            kind=entry["kind"],
            local=str(entry["local"]),
            appears_in=tuple(entry["appears_in"]),
            what=" ".join(str(entry["what"]).split()),
            context=entry.get("context"),
            output=entry.get("output"),
        )
    return Table(values, tuple(raw.get("local_only") or ()))


def _word(local: str) -> str:
    # Whole words only: an account id inside a longer digit run (a listener's 0222222222222222)
    # or an id inside a longer id is not that value.
    return rf"(?<![A-Za-z0-9]){re.escape(local)}(?![A-Za-z0-9])"


def _replace(node: Any, mapping: Mapping[str, str]) -> Any:
    if not mapping:
        return node
    # One pass, longest local value first: a replacement is never scanned again, so a deployed
    # value (or a token's text) that happens to contain a local value stays as it is.
    ordered = sorted(mapping, key=len, reverse=True)
    pattern = re.compile("|".join(_word(local) for local in ordered))

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda m: mapping[m.group(0)], value)
        if isinstance(value, Mapping):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return walk(node)


def _mentions(node: Any, local: str) -> bool:
    pattern = re.compile(_word(local))

    def walk(value: Any) -> bool:
        if isinstance(value, str):
            return bool(pattern.search(value))
        if isinstance(value, Mapping):
            return any(walk(item) for item in value.values())
        if isinstance(value, list):
            return any(walk(item) for item in value)
        return False

    return walk(node)


def load_document(path: Path) -> Any:
    """An API document as the gateway loads it (yaml.safe_load of the file)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def identity_policies(principal_arn: str, config: Path = GATEWAY_CONFIG) -> list[Any]:
    """The identity policies the local gateway gives `principal_arn` (its `identities`): in AWS
    the same policies go on the role, with the table's values substituted."""
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    for identity in raw.get("identities") or []:
        if identity.get("principal_arn") == principal_arn:
            return list(identity.get("policies") or [])
    raise ValueError(f"{config.name} has no identity {principal_arn}")
