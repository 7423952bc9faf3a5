"""The one bounded memo of the request path: answers kept by key, at most `maxsize` of them,
the least recently used dropped first. The pipeline's remembered selections, the SigV4
verifier, the policy-decision memo and a caller's policy answer all keep theirs here; each says
what its key holds and why that key is the whole of what its answer is made of."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
# How many answers a `Remembered` keeps unless told (callers choose what they send: host names,
# addresses; the memory stays bounded whatever they send).
MAX_REMEMBERED = 4096


class BoundedMemo(Generic[K, V]):
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._answers: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: K) -> V | None:
        """The answer kept for `key` (now the most recently used), or None."""
        answers = self._answers
        kept = answers.get(key)
        if kept is not None:
            answers.move_to_end(key)
        return kept

    def put(self, key: K, answer: V) -> None:
        answers = self._answers
        answers[key] = answer
        answers.move_to_end(key)
        if len(answers) > self.maxsize:
            answers.popitem(last=False)


class Remembered(BoundedMemo[K, tuple[V]]):
    """`compute`'s answer for each argument, computed once (at most `maxsize` kept). Only for a
    function whose answer depends on its argument alone; None is an answer like any other."""

    def __init__(self, compute: Callable[[K], V], maxsize: int = MAX_REMEMBERED) -> None:
        super().__init__(maxsize)
        self._compute = compute

    def __call__(self, argument: K) -> V:
        kept = self.get(argument)
        if kept is None:
            kept = (self._compute(argument),)
            self.put(argument, kept)
        return kept[0]
