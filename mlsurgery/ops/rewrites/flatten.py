"""A ``reshapeStatic`` / ``reshape`` / ``flattenTo2D`` / ``squeeze`` that only flattens → ``flatten``.

Core ML does not backpropagate through reshape-like layers, only through ``flatten``, so a converter's flattening
reshape between a convolution stack and the dense head hides every convolution from the loss. ``flatten``
(CHANNEL_FIRST) turns ``[..., C, H, W]`` into ``[..., C·H·W, 1, 1]`` in row-major order (NeuralNetwork.proto,
FlattenLayerParams), which is the order the reshape-like layers keep; a legacy ``reshape`` in CHANNEL_LAST order
reorders the data and is refused. In a rank-5 network the reshape's ``(C·H·W, 1, 1)`` target is exactly
flatten's output and the layer is simply replaced; in an exact-rank network the reshape drops to rank 2 while
flatten keeps rank 4, so the layers after it run on the lifted ``[N, K, 1, 1]`` blobs (see ``lift``). A
``squeeze``/``reshape`` that only drops the trailing ``1, 1`` of such a blob disappears the same way.
"""

from __future__ import annotations

from ...changes import Changes
from ...rewrite_matches.base import Match, NetworkFacts
from ...rewrite_matches.flatten import CODE, find
from ...rewrite_matches.lift import plan_lift, role
from .base import Rewrite
from .lift import apply_lift


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    consumers = [c for c in facts.graph.blob_consumers.get(layer.outputs[0], []) if role(facts, c) is not None]
    return apply_lift(facts, plan_lift(facts, consumers), "reshape → flatten")


REWRITE = Rewrite(CODE, "reshape-to-flatten", find, apply)
