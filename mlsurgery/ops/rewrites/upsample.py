"""Nearest-neighbour ``upsample`` by integer factors → a frozen transposed convolution (deconvolution).

Pose and segmentation decoders upsample their heat maps. Core ML does not backpropagate through ``upsample``,
but its backpropagation walk passes every ``convolution`` layer, deconvolutions included: the updatable
validator switches on the layer case ``kConvolution`` and never looks at ``isDeconvolution``
(NeuralNetworkValidatorGraph.hpp ``isLayerSupportedForBackprop``; UpdatableNeuralNetworkValidator.cpp). A
deconvolution with kernel = stride = the factors (fH, fW), valid padding, and weights 1 from channel c to channel
c copies each input pixel onto its fH × fW block, which is exactly nearest upsampling (NeuralNetwork.proto:
UpsampleLayerParams, ConvolutionLayerParams; output size (H − 1)·fH + fH = H·fH). It is never marked updatable.
No coremltools issue reports a device failure for deconvolution gradients; none reports one working either.

Refused: bilinear upsampling (its sample positions clamp at the border, which no convolution with zero padding
reproduces, so the predictions would change at the edges), fractional factors, and unknown channel counts.
"""

from __future__ import annotations

import numpy as np

from ...changes import Changes
from ...edit import replace_layer
from ...rewrite_matches.base import Match, NetworkFacts
from ...rewrite_matches.upsample import CODE, find, nearest_upsampling
from .base import Rewrite, frozen_convolution


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    channels, (height, width) = nearest_upsampling(facts, layer)
    weights = np.zeros((channels, channels, height, width), np.float32)
    weights[np.arange(channels), np.arange(channels)] = 1.0
    deconvolution = frozen_convolution(layer.proto, layer.name, weights, None, layer.inputs[0], layer.outputs[0],
                                       deconvolution=True, stride=(height, width))
    # The output size it computes anyway, stated (ConvolutionLayerParams.outputShape) so shapes stay inferable.
    shape = facts.shape(layer.inputs[0])
    deconvolution.convolution.outputShape.extend([shape[-2] * height, shape[-1] * width])
    changes = Changes("upsample → frozen deconvolution")
    changes.extend(replace_layer(spec, layer.name, deconvolution))
    return changes


REWRITE = Rewrite(CODE, "upsample-to-deconvolution", find, apply)
