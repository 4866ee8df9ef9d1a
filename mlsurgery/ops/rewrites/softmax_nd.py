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
from .base import Match, NetworkFacts, Rewrite
from .lift import apply_lift, plan_lift

CODE = "MLS500"


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for layer in facts.graph.layers:
        if layer.kind != "softmaxND":
            continue
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
