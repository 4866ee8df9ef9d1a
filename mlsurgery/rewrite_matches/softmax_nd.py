"""Where a ``softmaxND`` can become ``softmax`` (MLS500).

The rewrite itself, and why it computes the same: mlsurgery/ops/rewrites/softmax_nd.py."""

from __future__ import annotations

from .base import Match, NetworkFacts
from .lift import plan_lift

CODE = "MLS500"


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for layer in facts.layers_of("softmaxND"):
        shape = facts.shape(layer.inputs[0]) if layer.inputs else None
        if shape is None:
            matches.append(Match(CODE, layer.name, False, "the shape of its input cannot be inferred, so it is not "
                                 "known which axis it normalises"))
            continue
        rank, axis = len(shape), layer.params.axis % len(shape)
        if rank >= 4 and axis == rank - 3:
            matches.append(Match(CODE, layer.name, True, f"it normalises axis {layer.params.axis} of a rank-{rank} "
                                 "blob, the channel axis softmax normalises: replace it by softmax"))
        elif rank <= 3 and axis == rank - 1:
            plan = plan_lift(facts, [layer])
            if layer.index in plan.members:
                matches.append(Match(CODE, layer.name, True, f"it normalises the last axis of a rank-{rank} blob: "
                                     "run it (and the layers feeding it) on rank-4 blobs, as softmax"))
            else:
                matches.append(Match(CODE, layer.name, False, "its input blob is written more than once"))
        else:
            matches.append(Match(CODE, layer.name, False, f"it normalises axis {layer.params.axis} of a rank-{rank} "
                                 "blob, but softmax normalises the channel axis (-3): they compute different values"))
    return matches
