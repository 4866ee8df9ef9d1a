"""A clip (``clip``, or ``unary`` THRESHOLD, as converters write ReLU6 and clamp) → frozen 1 × 1 convolutions
around ReLUs.

PyTorch's ``clamp`` becomes ``clip`` (y = min(max(x, a), b)), TensorFlow's ReLU6 becomes ``unary`` THRESHOLD
(y = max(s·x + t, α)) between two linear activations; image models end in a clamp to [0, 1] or [0, 255]. Core ML
does not backpropagate through either (NeuralNetworkValidatorGraph.hpp), but it does through ReLU and
convolution, and both are single-path ReLU expressions (NeuralNetwork.proto: ClipLayerParams,
UnaryFunctionLayerParams):

- max(s·x + t, α) = α + ReLU(s·x + t − α): convolution (s, t − α) → ReLU → convolution (1, α);
- min(max(x, a), b) = b − ReLU(b − a − ReLU(x − a)): convolution (1, −a) → ReLU → convolution (−1, b − a) → ReLU →
  convolution (−1, b).

Every convolution is 1 × 1 with diagonal weights, never marked updatable; the last one keeps the layer's name and
output. The values agree up to the rounding of subtracting and adding the bound back (well within 1e-5 relative).
"""

from __future__ import annotations

import numpy as np

from ...changes import Changes
from ...edit import free_name, insert_layers, names_in_use, replace_layer
from ...rewrite_matches.base import Match, NetworkFacts, channels_of
from ...rewrite_matches.clip import CODE, find, relu_steps
from .base import Rewrite, diagonal_weights, frozen_convolution


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    channels, _ = channels_of(facts, layer.inputs[0])
    steps = relu_steps(layer)
    taken = names_in_use(facts.graph.network) | {f.name for f in facts.graph.model.description.output}
    source, inserted = layer.inputs[0], []
    for position, (scale, bias) in enumerate(steps[:-1]):
        shifted = free_name(taken, f"{layer.name}_shift{position}")
        inserted.append(frozen_convolution(layer.proto, shifted, diagonal_weights(np.float32(scale), channels),
                                           np.full(channels, bias, np.float32), source, shifted))
        rectified = free_name(taken, f"{layer.name}_relu{position}")
        relu = type(layer.proto)()
        relu.name = rectified
        relu.input.append(shifted)
        relu.output.append(rectified)
        relu.activation.ReLU.SetInParent()
        inserted.append(relu)
        source = rectified
    scale, bias = steps[-1]
    changes = Changes("clip → frozen convolutions and ReLUs")
    changes.extend(insert_layers(spec, inserted, before=layer.name))
    changes.extend(replace_layer(spec, layer.name, frozen_convolution(
        layer.proto, layer.name, diagonal_weights(np.float32(scale), channels), np.full(channels, bias, np.float32),
        source, layer.outputs[0])))
    return changes


REWRITE = Rewrite(CODE, "clip-to-relu", find, apply)
