"""Rewrites that make converter output trainable, as an explicit registry (``REWRITES``, in the order ``fix``
applies them). Each has its own module with ``find(facts) -> [Match]`` and ``apply(spec, match) -> Changes``;
the validation rules of ``rules/fixable.py`` report the matches, ``ops.fix`` applies them after proving that
predictions do not change.
"""

from __future__ import annotations

from . import affine, batched_matmul, clip, constant, flatten, identity, loss_input, reduce, softmax_nd, upsample
from .base import Match, NetworkFacts, Rewrite

REWRITES: list[Rewrite] = [identity.REWRITE, batched_matmul.REWRITE, softmax_nd.REWRITE, flatten.REWRITE,
                           loss_input.REWRITE, affine.REWRITE, constant.REWRITE, reduce.REWRITE, upsample.REWRITE,
                           clip.REWRITE]
REWRITE_CODES = [rewrite.code for rewrite in REWRITES]


def rewrite(code: str) -> Rewrite:
    return next(candidate for candidate in REWRITES if candidate.code == code)


def find_matches(facts: NetworkFacts, codes: list[str] | None = None) -> list[Match]:
    """Every match of every rewrite (or of those with ``codes``), in registry order."""
    return [match for candidate in REWRITES if codes is None or candidate.code in codes
            for match in candidate.find(facts)]


__all__ = ["REWRITES", "REWRITE_CODES", "Match", "NetworkFacts", "Rewrite", "find_matches", "rewrite"]
