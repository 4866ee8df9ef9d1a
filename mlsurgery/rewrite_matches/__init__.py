"""Where the converter-output rewrites apply, and why not where they cannot: each rewrite's ``find(facts) ->
[Match]``, one module each, in the explicit order ``fix`` applies them (``FINDERS``).

Analysis only: the validation rules of ``rules/fixable.py`` report these matches (MLS500–MLS509), and
``mlsurgery.ops.rewrites`` pairs each ``find`` with the ``apply`` that carries a match out.
"""

from __future__ import annotations

from collections.abc import Callable

from . import affine, batched_matmul, clip, constant, flatten, identity, loss_input, reduce, softmax_nd, upsample
from .base import Match, NetworkFacts

FINDERS: dict[str, Callable[[NetworkFacts], list[Match]]] = {
    module.CODE: module.find for module in (identity, batched_matmul, softmax_nd, flatten, loss_input, affine,
                                            constant, reduce, upsample, clip)}
REWRITE_CODES = list(FINDERS)


def find_matches(facts: NetworkFacts, codes: list[str] | None = None) -> list[Match]:
    """Every match of every rewrite (or of those with ``codes``), in registry order."""
    return [match for code, find in FINDERS.items() if codes is None or code in codes for match in find(facts)]


__all__ = ["FINDERS", "REWRITE_CODES", "Match", "NetworkFacts", "find_matches"]
