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
from .base import Match, NetworkFacts, Rewrite

CODE = "MLS501"


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for layer in facts.graph.layers:
        if layer.kind != "batchedMatmul":
            continue
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
