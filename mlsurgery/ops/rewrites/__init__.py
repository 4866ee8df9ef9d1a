"""Rewrites that make converter output trainable, as an explicit registry (``REWRITES``, in the order ``fix``
applies them, which ``mlsurgery.rewrite_matches.FINDERS`` fixes). Each has its own module with
``apply(spec, match) -> Changes``, paired with its matcher ``find(facts) -> [Match]`` from
``mlsurgery.rewrite_matches``; the validation rules of ``rules/fixable.py`` report the matches, ``ops.fix``
applies them after proving that predictions do not change.
"""

from __future__ import annotations

from ...rewrite_matches import FINDERS
from . import affine, batched_matmul, clip, constant, flatten, identity, loss_input, reduce, softmax_nd, upsample
from .base import Rewrite

_BY_CODE = {module.REWRITE.code: module.REWRITE for module in (
    affine, batched_matmul, clip, constant, flatten, identity, loss_input, reduce, softmax_nd, upsample)}
REWRITES: list[Rewrite] = [_BY_CODE[code] for code in FINDERS]


def rewrite(code: str) -> Rewrite:
    return _BY_CODE[code]


__all__ = ["REWRITES", "Rewrite", "rewrite"]
