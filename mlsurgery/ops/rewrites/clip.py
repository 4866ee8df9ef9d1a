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
from .base import Match, NetworkFacts, Rewrite, channels_of, diagonal_weights, frozen_convolution, trains_upstream

CODE = "MLS509"
_THRESHOLD = 7  # UnaryFunctionLayerParams.Operation.THRESHOLD


def _steps(layer) -> list[tuple[float, float]] | None:
    """The (scale, bias) of each convolution, ReLUs between them; None when the layer is not a clip."""
    params = layer.params
    if layer.kind == "clip":
        low, high = float(params.minVal), float(params.maxVal)
        return [(1.0, -low), (-1.0, high - low), (-1.0, high)]
    if layer.kind == "unary" and params.type == _THRESHOLD:
        scale, alpha = float(params.scale or 1.0), float(params.alpha)
        return [(scale, float(params.shift) - alpha), (1.0, alpha)]
    return None


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for layer in facts.graph.layers:
        steps = _steps(layer) if layer.kind in ("clip", "unary") else None
        if steps is None or len(layer.inputs) != 1 or len(layer.outputs) != 1:
            continue
        if not trains_upstream(facts.graph, layer):
            continue
        channels, why = channels_of(facts, layer.inputs[0])
        if channels is None:
            matches.append(Match(CODE, layer.name, False, why))
            continue
        what = "clips" if layer.kind == "clip" else "thresholds (a ReLU6 part)"
        matches.append(Match(CODE, layer.name, True, f"this {layer.type_label} {what} and stops gradients: frozen "
                             "1 × 1 convolutions around ReLUs compute the same and pass them"))
    return matches


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    channels, _ = channels_of(facts, layer.inputs[0])
    steps = _steps(layer)
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
