"""A converted classifier's head on rank-4 blobs, so cross-entropy can train it: ``mlsurgery.ops.rewrites`` lift,
with the blob shapes the ML Program states.

The backend writes a PyTorch classifier's head as rank-2 ``[N, K]`` blobs ending in ``softmaxND``; Core ML's
cross-entropy needs a ``softmax`` layer, which normalises the channel axis of a rank ≥ 3 blob. ``mlsurgery fix``
(MLS500) makes that change when it can infer every blob's shape from the layers; the ML Program states them all,
so here it always can.
"""

from __future__ import annotations

from ..network import LayerGraph, trainable_network
from ..ops.rewrites.lift import apply_lift
from ..rewrite_matches.base import NetworkFacts
from ..rewrite_matches.lift import plan_lift
from ..rewrite_matches.softmax_nd import find as find_softmax_nd


class _ProgramShapes(NetworkFacts):
    """Network facts whose blob shapes come from the ML Program where the layers alone do not tell them."""

    def __init__(self, graph: LayerGraph, program_shapes: dict[str, tuple[int, ...]]):
        super().__init__(graph)
        self.program_shapes = program_shapes

    def shape(self, blob: str):
        known = self.program_shapes.get(blob)
        return known if known is not None else super().shape(blob)


def lift_classifier_head(spec, program_shapes: dict[str, tuple[int, ...]], notes: list[str]) -> None:
    network = trainable_network(spec, "converted model")
    probabilities = network.network.labelProbabilityLayerName
    facts = _ProgramShapes(LayerGraph(network), program_shapes)
    producer = facts.graph.blob_producer.get(probabilities)
    if producer is None or producer.kind != "softmaxND":
        return
    match = next((m for m in find_softmax_nd(facts) if m.layer == producer.name), None)
    if match is None or not match.fixable:
        return
    changes = apply_lift(facts, plan_lift(facts, [producer]), "softmaxND → softmax")
    # The lift renames the blobs it lifts; the classifier reads its scores from the softmax's new output.
    softmax = next(layer for layer in network.network.layers if layer.name == producer.name)
    network.network.labelProbabilityLayerName = softmax.output[0]
    notes.append(f"classifier head on rank-4 blobs ({len(changes)} change(s)): softmaxND → softmax, which "
                 "cross-entropy training needs")
