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

import numpy as np

from ...changes import Changes
from ...edit import replace_layer
from ...weights import float_values
from .base import Match, NetworkFacts, Rewrite, channels_of, diagonal_weights, frozen_convolution, trains_upstream

CODE = "MLS505"
KINDS = ("scale", "bias", "activation")


def _channel_vector(values: np.ndarray, shape, channels: int) -> np.ndarray | None:
    """The per-channel values of a ``scale``/``bias`` parameter of ``shape``, or None when they vary over H, W."""
    dims = [int(d) for d in shape]
    if dims in ([1], [1, 1, 1]):
        return np.full(channels, values[0], np.float32)
    if dims in ([channels], [channels, 1, 1]):
        return values.astype(np.float32)
    return None


def _affine(layer, channels: int):
    """``(scale[C], bias[C] or None)``, or a string saying why the layer is not a channel affine."""
    params = layer.params
    try:
        if layer.kind == "scale":
            scale = _channel_vector(float_values(params.scale), params.shapeScale, channels)
            bias = (_channel_vector(float_values(params.bias), params.shapeBias, channels) if params.hasBias
                    else None)
            if scale is None or (params.hasBias and bias is None):
                return (f"its scale {list(params.shapeScale)} or bias {list(params.shapeBias)} varies over H and W, "
                        "which a 1 × 1 convolution cannot compute")
            return scale, bias
        if layer.kind == "bias":
            bias = _channel_vector(float_values(params.bias), params.shape, channels)
            if bias is None:
                return f"its bias of shape {list(params.shape)} varies over H and W"
            return np.ones(channels, np.float32), bias
    except ValueError:
        return "its parameters are quantized (dequantize them first)"
    linear = params.linear
    return np.full(channels, linear.alpha, np.float32), np.full(channels, linear.beta, np.float32)


def _is_candidate(layer) -> bool:
    if layer.kind == "activation":
        linear = layer.params.linear if layer.activation == "linear" else None
        # alpha 1, beta 0 is an identity: MLS503 removes it.
        return linear is not None and (linear.alpha != 1.0 or linear.beta != 0.0)
    return layer.kind in ("scale", "bias")


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for layer in facts.graph.layers:
        if not _is_candidate(layer) or len(layer.inputs) != 1 or len(layer.outputs) != 1:
            continue
        if not trains_upstream(facts.graph, layer):
            continue  # nothing before it could train, so its blocking costs nothing
        channels, why = channels_of(facts, layer.inputs[0])
        if channels is None and layer.kind == "scale" and list(layer.params.shapeScale) not in ([1], [1, 1, 1]):
            channels = int(layer.params.shapeScale[0])  # a per-channel scale names the channel count itself
        if channels is None:
            matches.append(Match(CODE, layer.name, False, why))
            continue
        affine = _affine(layer, channels)
        if isinstance(affine, str):
            matches.append(Match(CODE, layer.name, False, affine))
            continue
        matches.append(Match(CODE, layer.name, True, f"this {layer.type_label} multiplies and shifts each of the "
                             f"{channels} channels, and stops gradients: a frozen 1 × 1 convolution computes the "
                             "same and passes them"))
    return matches


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    channels, _ = channels_of(facts, layer.inputs[0])
    if channels is None:
        channels = int(layer.params.shapeScale[0])
    scale, bias = _affine(layer, channels)
    convolution = frozen_convolution(layer.proto, layer.name, diagonal_weights(scale, channels), bias,
                                     layer.inputs[0], layer.outputs[0])
    changes = Changes("affine → frozen convolution")
    changes.extend(replace_layer(spec, layer.name, convolution))
    return changes


REWRITE = Rewrite(CODE, "affine-to-convolution", find, apply)
