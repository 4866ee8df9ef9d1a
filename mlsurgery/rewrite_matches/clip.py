"""Where a clip or threshold can become frozen 1 × 1 convolutions around ReLUs (MLS509).

The rewrite itself, and why it computes the same: mlsurgery/ops/rewrites/clip.py."""

from __future__ import annotations

from .base import Match, NetworkFacts, channels_of

CODE = "MLS509"
_THRESHOLD = 7  # UnaryFunctionLayerParams.Operation.THRESHOLD


def relu_steps(layer) -> list[tuple[float, float]] | None:
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
    for layer in facts.layers_of("clip", "unary"):
        steps = relu_steps(layer)
        if steps is None or len(layer.inputs) != 1 or len(layer.outputs) != 1:
            continue
        if not facts.trains_upstream(layer):
            continue
        channels, why = channels_of(facts, layer.inputs[0])
        if channels is None:
            matches.append(Match(CODE, layer.name, False, why))
            continue
        what = "clips" if layer.kind == "clip" else "thresholds (a ReLU6 part)"
        matches.append(Match(CODE, layer.name, True, f"this {layer.type_label} {what} and stops gradients: frozen "
                             "1 × 1 convolutions around ReLUs compute the same and pass them"))
    return matches
