"""Where a per-channel or scalar affine layer (scale, bias, linear activation) can become a frozen 1 × 1
convolution (MLS505).

The rewrite itself, and why it computes the same: mlsurgery/ops/rewrites/affine.py."""

from __future__ import annotations

import numpy as np

from ..weights import float_values
from .base import Match, NetworkFacts, channels_of

CODE = "MLS505"


def _channel_vector(values: np.ndarray, shape, channels: int) -> np.ndarray | None:
    """The per-channel values of a ``scale``/``bias`` parameter of ``shape``, or None when they vary over H, W."""
    dims = [int(d) for d in shape]
    if dims in ([1], [1, 1, 1]):
        return np.full(channels, values[0], np.float32)
    if dims in ([channels], [channels, 1, 1]):
        return values.astype(np.float32)
    return None


def channel_affine(layer, channels: int):
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
    for layer in facts.layers_of("scale", "bias", "activation"):
        if not _is_candidate(layer) or len(layer.inputs) != 1 or len(layer.outputs) != 1:
            continue
        if not facts.trains_upstream(layer):
            continue  # nothing before it could train, so its blocking costs nothing
        channels, why = channels_of(facts, layer.inputs[0])
        if channels is None and layer.kind == "scale" and list(layer.params.shapeScale) not in ([1], [1, 1, 1]):
            channels = int(layer.params.shapeScale[0])  # a per-channel scale names the channel count itself
        if channels is None:
            matches.append(Match(CODE, layer.name, False, why))
            continue
        affine = channel_affine(layer, channels)
        if isinstance(affine, str):
            matches.append(Match(CODE, layer.name, False, affine))
            continue
        matches.append(Match(CODE, layer.name, True, f"this {layer.type_label} multiplies and shifts each of the "
                             f"{channels} channels, and stops gradients: a frozen 1 × 1 convolution computes the "
                             "same and passes them"))
    return matches
