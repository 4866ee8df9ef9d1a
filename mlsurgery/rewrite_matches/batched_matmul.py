"""Where a ``batchedMatMul`` with a constant weight can become an ``innerProduct`` (MLS501).

The rewrite itself, and why it computes the same: mlsurgery/ops/rewrites/batched_matmul.py."""

from __future__ import annotations

from .base import Match, NetworkFacts

CODE = "MLS501"


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for layer in facts.layers_of("batchedMatmul"):
        params = layer.params
        shape = facts.shape(layer.inputs[0]) if layer.inputs else None
        if len(layer.inputs) != 1:
            reason = "it multiplies two inputs; only a product with a constant weight is a dense layer"
        elif params.int8DynamicQuantize:
            reason = "it quantises its input to int8 at run time, which innerProduct training cannot do"
        elif shape is None:
            reason = "the shape of its input cannot be inferred"
        elif len(shape) > 3:
            reason = (f"its input has rank {len(shape)}; innerProduct flattens the last three axes of a rank-4/5 "
                      "input instead of multiplying the last one")
        else:
            matches.append(Match(CODE, layer.name, True, f"a constant {params.weightMatrixFirstDimension}×"
                                 f"{params.weightMatrixSecondDimension} weight on a rank-{len(shape)} input: "
                                 "replace it by innerProduct with the same weights"))
            continue
        matches.append(Match(CODE, layer.name, False, reason))
    return matches
