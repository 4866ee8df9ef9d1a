"""``batchedMatMul`` with a constant weight → ``innerProduct``, the dense layer Core ML can train.

NeuralNetwork.proto: with one input, batchedMatMul multiplies the last axis of its input by a weight matrix
``[X1, X2]`` stored column-major (so its values are ``[X2, X1]`` row-major, exactly innerProduct's
``[outputChannels, inputChannels]`` layout) and adds an optional bias ``[X2]``; the output keeps the input's rank.
innerProduct computes the same product over the last axis for inputs of rank 1 to 3 (rank 4 and 5 flatten the
last three axes instead), so the weights and bias are moved over unchanged. Two-input products (no constant
weight) and the int8 dynamic-quantisation mode are refused.
"""

from __future__ import annotations

from ...changes import Changes
from ...edit import replace_layer
from ...rewrite_matches.base import Match, NetworkFacts
from ...rewrite_matches.batched_matmul import CODE, find
from .base import Rewrite


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    proto = type(facts.graph.layer(match.layer).proto)()
    proto.CopyFrom(facts.graph.layer(match.layer).proto)
    params = type(proto.batchedMatmul)()
    params.CopyFrom(proto.batchedMatmul)
    dense = proto.innerProduct  # setting the oneof clears batchedMatmul
    dense.inputChannels = params.weightMatrixFirstDimension
    dense.outputChannels = params.weightMatrixSecondDimension
    dense.hasBias = params.hasBias
    dense.weights.CopyFrom(params.weights)
    if params.hasBias:
        dense.bias.CopyFrom(params.bias)
    replace_layer(facts.graph.location, match.layer, proto)
    changes = Changes("batchedMatMul → innerProduct")
    changes.add(f"layer {match.layer}", f"batchedMatMul → innerProduct ({dense.inputChannels} → "
                f"{dense.outputChannels}{', with bias' if dense.hasBias else ''})")
    return changes


REWRITE = Rewrite(CODE, "batched-matmul-to-inner-product", find, apply)
