"""A per-channel or scalar affine layer (``scale``, ``bias``, a linear activation α·x + β) → a frozen 1 × 1
convolution with diagonal weights and the bias.

Image-to-image converters end in a "deprocess" affine layer (tanh → ``scale`` 127.5 + 127.5). Core ML does not
backpropagate through ``scale``, ``bias`` or a linear activation (NeuralNetworkValidatorGraph.hpp), so nothing
before it can train. A 1 × 1 convolution computes the same ``y[c] = s[c]·x[c] + b[c]`` (NeuralNetwork.proto:
ScaleLayerParams, BiasLayerParams, ActivationLinear, ConvolutionLayerParams) and Core ML backpropagates through
it; it is never marked updatable (``make-updatable --layers auto`` does not pick it). The layer keeps its name,
input and output. Refused: a scale or bias that varies over H and W (shape ``[1 or C, H, W]``, not a channel
affine), quantized parameters, and inputs whose channel count cannot be inferred.
"""

from __future__ import annotations

from ...changes import Changes
from ...edit import replace_layer
from ...rewrite_matches.affine import CODE, channel_affine, find
from ...rewrite_matches.base import Match, NetworkFacts, channels_of
from .base import Rewrite, diagonal_weights, frozen_convolution


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    channels, _ = channels_of(facts, layer.inputs[0])
    if channels is None:
        channels = int(layer.params.shapeScale[0])
    scale, bias = channel_affine(layer, channels)
    convolution = frozen_convolution(layer.proto, layer.name, diagonal_weights(scale, channels), bias,
                                     layer.inputs[0], layer.outputs[0])
    changes = Changes("affine → frozen convolution")
    changes.extend(replace_layer(spec, layer.name, convolution))
    return changes


REWRITE = Rewrite(CODE, "affine-to-convolution", find, apply)
