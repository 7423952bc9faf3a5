"""Languages of IAM wildcard patterns and route templates, for `gateway.analysis`: which
combinations of patterns a string can satisfy at once, each with a shortest example.

Every language here is a small NFA whose edges are finite or co-finite character sets, so any
character that no pattern names behaves like any other: searching the product of the automata
over the characters the patterns name plus one fresh character visits every reachable
combination. `atoms` is therefore exact: a combination it does not return is not realisable.

The wildcard semantics are `gateway.conditions.compile_wildcard`'s: `*` any run of characters,
`?` one; with arn_segments (Resource) a `*` or `?` stays inside its colon-delimited segment unless
the `*` ends the segment.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FRESH_CHARACTERS = "xyzqjkw0123456789"  # the fresh character: the first not otherwise named
MAX_STATES = 200_000  # a search beyond this many product states gives up (TooComplex)


class TooComplex(Exception):
    """The patterns combine into more states than the search explores."""


@dataclass(frozen=True)
class CharSet:
    """The characters in `chars`, or (negated) every character but those."""

    chars: frozenset[str]
    negated: bool = False

    def __contains__(self, char: str) -> bool:
        return (char in self.chars) != self.negated


ANY = CharSet(frozenset(), negated=True)


def only(chars: str) -> CharSet:
    return CharSet(frozenset(chars))


def but(chars: str) -> CharSet:
    return CharSet(frozenset(chars), negated=True)


@dataclass
class Nfa:
    edges: list[list[tuple[CharSet, int]]] = field(default_factory=list)
    epsilon: list[list[int]] = field(default_factory=list)
    accept: set[int] = field(default_factory=set)

    def state(self) -> int:
        self.edges.append([])
        self.epsilon.append([])
        return len(self.edges) - 1

    def edge(self, source: int, chars: CharSet, target: int) -> None:
        self.edges[source].append((chars, target))

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        seen = set(states)
        todo = list(seen)
        while todo:
            for target in self.epsilon[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return frozenset(seen)

    def start(self) -> frozenset[int]:
        return self.closure([0])

    def step(self, states: frozenset[int], char: str) -> frozenset[int]:
        return self.closure(t for s in states for chars, t in self.edges[s] if char in chars)

    def run(self, text: str, states: frozenset[int] | None = None) -> frozenset[int]:
        current = self.start() if states is None else states
        for char in text:
            current = self.step(current, char)
        return current

    def accepts(self, states: frozenset[int]) -> bool:
        return not self.accept.isdisjoint(states)

    def named_characters(self, states: frozenset[int]) -> set[str]:
        """The characters the edges reachable from `states` name."""
        seen, todo = set(states), list(states)
        named: set[str] = set()
        while todo:
            state = todo.pop()
            for chars, target in self.edges[state]:
                named |= chars.chars
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
            for target in self.epsilon[state]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return named


def glob(pattern: str, *, arn_segments: bool = False) -> Nfa:
    """An IAM wildcard pattern without policy variables."""
    nfa = Nfa()
    current = nfa.state()
    for index, char in enumerate(pattern):
        following = nfa.state()
        if char == "*":
            segment_ends = index + 1 == len(pattern) or pattern[index + 1] == ":"
            chars = but(":") if arn_segments and not segment_ends else ANY
            nfa.edge(current, chars, current)
            nfa.epsilon[current].append(following)
        elif char == "?":
            nfa.edge(current, but(":") if arn_segments else ANY, following)
        else:
            nfa.edge(current, only(char), following)
        current = following
    nfa.accept.add(current)
    return nfa


def literal(text: str) -> Nfa:
    nfa = Nfa()
    current = nfa.state()
    for char in text:
        following = nfa.state()
        nfa.edge(current, only(char), following)
        current = following
    nfa.accept.add(current)
    return nfa


def union(nfas: Sequence[Nfa]) -> Nfa:
    nfa = Nfa()
    start = nfa.state()
    for part in nfas:
        offset = len(nfa.edges)
        for edges, eps in zip(part.edges, part.epsilon, strict=True):
            nfa.edges.append([(chars, t + offset) for chars, t in edges])
            nfa.epsilon.append([t + offset for t in eps])
        nfa.epsilon[start].append(offset)
        nfa.accept |= {a + offset for a in part.accept}
    return nfa


def _segment(nfa: Nfa, start: int) -> int:
    """One path segment from `start`: one or more characters but '/', not '.' or '..' (the
    gateway resolves dot segments before routing). Returns the accepting state."""
    dot, dots, good = nfa.state(), nfa.state(), nfa.state()
    nfa.edge(start, only("."), dot)
    nfa.edge(start, but("/."), good)
    nfa.edge(dot, only("."), dots)
    nfa.edge(dot, but("/."), good)
    nfa.edge(dots, but("/"), good)
    nfa.edge(good, but("/"), good)
    return good


def route_path(resource_path: str | None) -> Nfa:
    """The paths a route template serves, as the method ARN names them (below the stage,
    without the leading '/'): static segments as written, `{name}` one segment, `{name+}` one or
    more; None (an HTTP API's `$default`) any path. Canonical spellings: single '/' between
    segments, no trailing '/', no encoded '/'."""
    nfa = Nfa()
    current = nfa.state()
    parts = [p for p in resource_path.split("/") if p] if resource_path is not None else None
    if parts is None:
        nfa.accept.add(current)
        end = _segment(nfa, current)
        nfa.edge(end, only("/"), current)
        nfa.accept.add(end)
        return nfa
    for index, part in enumerate(parts):
        if index:
            following = nfa.state()
            nfa.edge(current, only("/"), following)
            current = following
        if part.startswith("{") and part.endswith("+}"):
            end = _segment(nfa, current)
            nfa.edge(end, only("/"), current)
            current = end
        elif part.startswith("{") and part.endswith("}"):
            current = _segment(nfa, current)
        else:
            for char in part:
                following = nfa.state()
                nfa.edge(current, only(char), following)
                current = following
    nfa.accept.add(current)
    return nfa


def any_path() -> Nfa:
    return route_path(None)


def non_empty() -> Nfa:
    nfa = Nfa()
    start, end = nfa.state(), nfa.state()
    nfa.edge(start, ANY, end)
    nfa.edge(end, ANY, end)
    nfa.accept.add(end)
    return nfa


def id_like(prefix: str) -> Nfa:
    """`prefix` and one or more lower-case hex digits: how AWS spells vpce-/vpc- ids."""
    nfa = literal(prefix)
    (end,) = nfa.accept
    digits = nfa.state()
    nfa.edge(end, only("0123456789abcdef"), digits)
    nfa.edge(digits, only("0123456789abcdef"), digits)
    nfa.accept = {digits}
    return nfa


@dataclass(frozen=True)
class Language:
    """An automaton in a search: `after` is read first (e.g. the method ARN before the path),
    `required` says whether the strings searched must (True) or must not (False) be in it;
    None: free, one dimension of the combinations reported."""

    nfa: Nfa
    required: bool | None = None
    after: str = ""


def atoms(languages: Sequence[Language]) -> dict[tuple[bool, ...], str]:
    """For every combination of membership in the free languages that some string satisfying
    the required ones realises, the shortest such string (the first found, the fresh character
    preferred). Keys list the free languages' memberships in their order."""
    starts = tuple(lang.nfa.run(lang.after) for lang in languages)
    named: set[str] = set()
    for lang, start in zip(languages, starts, strict=True):
        named |= lang.nfa.named_characters(start)
    fresh = next((c for c in FRESH_CHARACTERS if c not in named), "\u00a4")
    alphabet = [fresh, *sorted(named)]
    free = [i for i, lang in enumerate(languages) if lang.required is None]
    required = [(i, lang.required) for i, lang in enumerate(languages) if lang.required is not None]
    found: dict[tuple[bool, ...], str] = {}
    seen = {starts}
    queue: deque[tuple[tuple[frozenset[int], ...], str]] = deque([(starts, "")])
    while queue:
        states, text = queue.popleft()
        accepting = [lang.nfa.accepts(s) for lang, s in zip(languages, states, strict=True)]
        if all(accepting[i] == wanted for i, wanted in required):
            found.setdefault(tuple(accepting[i] for i in free), text)
            if len(found) == 2 ** len(free):
                break  # every combination is realised
        for char in alphabet:
            following = tuple(
                lang.nfa.step(s, char) for lang, s in zip(languages, states, strict=True)
            )
            if any(wanted and not following[i] for i, wanted in required):
                continue  # a language the string must be in can no longer accept it
            if following not in seen:
                if len(seen) >= MAX_STATES:
                    raise TooComplex(f"more than {MAX_STATES} combinations of states")
                seen.add(following)
                queue.append((following, text + char))
    return found
