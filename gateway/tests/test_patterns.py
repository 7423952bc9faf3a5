"""The pattern languages of the analysis (gateway.patterns) against the evaluator's own matchers:
every combination the search reports is realised by its example, and every combination that
some short string realises is reported."""

import itertools
import random

import pytest
from gateway.conditions import compile_wildcard
from gateway.patterns import Language, atoms, glob, id_like, literal, route_path

ALPHABET = "ab:/*"


def matches(pattern: str, text: str, *, arn_segments: bool) -> bool:
    regex = compile_wildcard([(False, pattern)], arn_segments=arn_segments)
    return regex.fullmatch(text) is not None


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("arn_segments", [False, True], ids=["condition", "resource"])
def test_atoms_are_exactly_the_realisable_combinations(seed: int, arn_segments: bool) -> None:
    rng = random.Random(seed)
    patterns = [
        "".join(rng.choice("ab:/*?") for _ in range(rng.randint(0, 4)))
        for _ in range(rng.randint(1, 3))
    ]
    found = atoms([Language(glob(p, arn_segments=arn_segments)) for p in patterns])
    for vector, example in found.items():
        assert vector == tuple(matches(p, example, arn_segments=arn_segments) for p in patterns)
    brute = {
        tuple(matches(p, "".join(text), arn_segments=arn_segments) for p in patterns)
        for n in range(6)
        for text in itertools.product("ab:/x", repeat=n)
    }
    assert brute <= set(found), patterns


ROUTE_PATHS = [
    ("/dogs", "dogs", True),
    ("/dogs", "dogs/", False),  # canonical paths only: the router ignores a trailing '/'
    ("/", "", True),
    ("/todo/{todoId}", "todo/1a2b", True),
    ("/todo/{todoId}", "todo/", False),
    ("/todo/{todoId}", "todo/a/b", False),
    ("/todo/{todoId}", "todo/..", False),  # dot segments are resolved before routing
    ("/todo/{todoId}", "todo/...", True),
    ("/{proxy+}", "a/b/c", True),
    ("/{proxy+}", "", False),
    ("/{proxy+}", "a//b", False),
    ("/files/{proxy+}", "files/a", True),
    ("/files/{proxy+}", "files", False),
]


@pytest.mark.parametrize(("template", "path", "served"), ROUTE_PATHS)
def test_route_paths(template: str, path: str, served: bool) -> None:
    nfa = route_path(template)
    assert nfa.accepts(nfa.run(path)) is served


def test_a_resource_pattern_read_after_the_method_arn() -> None:
    """`*/GET/*` also matches POST resources whose path contains /GET/: the `*` runs over '/'."""
    prefix = "arn:aws:execute-api:us-east-1:111111111111:abcdef1234/prod/POST/"
    pattern = "arn:aws:execute-api:us-east-1:111111111111:abcdef1234/*/GET/*"
    found = atoms([
        Language(route_path("/{proxy+}"), True),
        Language(glob(pattern, arn_segments=True), None, prefix),
    ])  # fmt: skip
    assert found == {(False,): "x", (True,): "GET/x"}


def test_ids_and_literals() -> None:
    found = atoms([
        Language(id_like("vpce-"), True),
        Language(literal("vpce-04444444444444444")),
        Language(glob("vpce-0*")),
    ])  # fmt: skip
    assert found == {(True, True): "vpce-04444444444444444", (False, True): "vpce-0",
                     (False, False): "vpce-1"}  # fmt: skip
