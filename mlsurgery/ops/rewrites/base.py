"""What every rewrite shares: the ``Rewrite`` record pairing a matcher (``mlsurgery.rewrite_matches``) with the
``apply`` that carries a match out, and the frozen convolutions most of them write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...changes import Changes
from ...rewrite_matches.base import Match, NetworkFacts


@dataclass(frozen=True)
class Rewrite:
    """A converter-output rewrite: ``find`` lists its matches in a network, ``apply`` carries one out."""

    code: str
    name: str
    find: Callable[["NetworkFacts"], list[Match]]
    apply: Callable[[object, Match], Changes]


def frozen_convolution(like, name: str, weights: np.ndarray, bias: np.ndarray | None, source: str, target: str,
                       *, deconvolution: bool = False, stride: tuple[int, int] = (1, 1)):
    """A ``convolution`` layer message (the class of ``like``, a layer of the network) reading ``source`` and
    writing ``target``, valid padding, no dilation, one group, not updatable.

    ``weights`` is laid out as Core ML stores them: ``[outputChannels, kernelChannels, kH, kW]``, or for a
    deconvolution ``[kernelChannels, outputChannels, kH, kW]`` (NeuralNetwork.proto, ConvolutionLayerParams).
    """
    layer = type(like)()
    layer.name = name
    layer.input.append(source)
    layer.output.append(target)
    params = layer.convolution
    first, second, height, width = weights.shape
    params.outputChannels = second if deconvolution else first
    params.kernelChannels = first if deconvolution else second
    params.nGroups = 1
    params.kernelSize.extend([height, width])
    params.stride.extend(stride)
    params.dilationFactor.extend([1, 1])
    params.valid.SetInParent()
    params.isDeconvolution = deconvolution
    params.weights.floatValue.extend(weights.astype(np.float32).ravel().tolist())
    if bias is not None:
        params.hasBias = True
        params.bias.floatValue.extend(np.asarray(bias, np.float32).ravel().tolist())
    return layer


def diagonal_weights(scale: np.ndarray, channels: int) -> np.ndarray:
    """``[C, C, 1, 1]`` weights of a 1 × 1 convolution that multiplies channel c by ``scale[c]`` (or a scalar)."""
    weights = np.zeros((channels, channels, 1, 1), np.float32)
    weights[np.arange(channels), np.arange(channels), 0, 0] = np.broadcast_to(scale, (channels,))
    return weights
