"""``softmaxND`` → ``softmax``: cross-entropy needs a ``softmax`` layer, and coremltools 9 emits ``softmaxND``.

Core ML's ``softmax`` normalises axis -3 of a blob of rank ≥ 3 (NeuralNetwork.proto, SoftmaxLayerParams), while
``softmaxND`` normalises its ``axis``. So the layer is replaced directly when its input has rank ≥ 3 and ``axis``
is -3 there; a rank ≤ 3 blob normalised over its last axis (a converted classifier's ``[N, K]`` logits) becomes
a ``softmax`` over the channel axis of the lifted ``[N, K, 1, 1]`` blob (see ``lift``). Any other axis is not
what ``softmax`` computes, and is refused.
"""

from __future__ import annotations

from ...changes import Changes
from ...edit import replace_layer
from ...rewrite_matches.base import Match, NetworkFacts
from ...rewrite_matches.lift import plan_lift
from ...rewrite_matches.softmax_nd import CODE, find
from .base import Rewrite
from .lift import apply_lift


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    shape = facts.shape(layer.inputs[0])
    if len(shape) >= 4:
        changes = Changes("softmaxND → softmax")
        axis = layer.params.axis
        softmax = type(layer.proto)()
        softmax.CopyFrom(layer.proto)
        softmax.softmax.SetInParent()  # setting the oneof clears softmaxND
        replace_layer(facts.graph.location, layer.name, softmax)
        changes.add(f"layer {layer.name}", f"softmaxND (axis {axis}) → softmax (axis -3 of a rank-{len(shape)} blob)")
        return changes
    return apply_lift(facts, plan_lift(facts, [layer]), "softmaxND → softmax")


REWRITE = Rewrite(CODE, "softmax-nd-to-softmax", find, apply)
