"""Adding or multiplying by a per-channel or scalar constant → a frozen 1 × 1 convolution.

Converters write "x + mean" / "x · 255" as an ``add`` / ``multiply`` with one input and ``alpha`` (AddLayerParams,
MultiplyLayerParams: one input adds or multiplies ``alpha``), or with a second input a ``loadConstant`` /
``loadConstantND`` writes; the broadcasting forms (``addBroadcastable``, ``multiplyBroadcastable``) likewise.
Core ML does not backpropagate through any of them (NeuralNetworkValidatorGraph.hpp). When the constant is the
same over H and W (shape ``[C, 1, 1]``, ``[1, 1, 1]`` or, ND, ``[..., C, 1, 1]`` with leading ones), a 1 × 1
convolution with diagonal weights (the factor, or 1) and bias (the addend, or 0) computes the same and passes
gradients; it is never marked updatable. The layer keeps its name and output; the constant layer is removed
when nothing else reads it.
"""

from __future__ import annotations

import numpy as np

from ...changes import Changes
from ...edit import remove_unread_layer, replace_layer
from ...rewrite_matches.base import Match, NetworkFacts
from ...rewrite_matches.constant import ADDS, CODE, constant_operation, find
from .base import Rewrite, diagonal_weights, frozen_convolution


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    source, values, constant = constant_operation(facts, layer)
    channels = len(values)
    if layer.kind in ADDS:
        weights, bias = diagonal_weights(np.ones(channels, np.float32), channels), values
    else:
        weights, bias = diagonal_weights(values, channels), None
    changes = Changes("constant operation → frozen convolution")
    changes.extend(replace_layer(spec, layer.name, frozen_convolution(layer.proto, layer.name, weights, bias,
                                                                       source, layer.outputs[0])))
    if constant is not None:
        changes.extend(remove_unread_layer(spec, constant.name))
    return changes


REWRITE = Rewrite(CODE, "constant-to-convolution", find, apply)
