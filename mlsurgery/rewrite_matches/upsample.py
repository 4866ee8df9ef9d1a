"""Where a nearest-neighbour ``upsample`` by integer factors can become a frozen deconvolution (MLS508).

The rewrite itself, and why it computes the same: mlsurgery/ops/rewrites/upsample.py."""

from __future__ import annotations

from .base import Match, NetworkFacts, channels_of

CODE = "MLS508"


def nearest_upsampling(facts: NetworkFacts, layer):
    params = layer.params
    if params.mode != 0:  # NN
        return ("it upsamples bilinearly, which samples clamped at the border: no transposed convolution "
                "computes the same values at the edges, so it is not rewritten (attach the loss before it)")
    if len(params.fractionalScalingFactor):
        return "it upsamples by fractional factors"
    factors = [int(f) for f in params.scalingFactor] or [1, 1]
    channels, why = channels_of(facts, layer.inputs[0])
    if channels is None:
        return why
    return channels, (factors[0], factors[1])


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for layer in facts.layers_of("upsample"):
        if len(layer.inputs) != 1 or not facts.trains_upstream(layer):
            continue
        plan = nearest_upsampling(facts, layer)
        if isinstance(plan, str):
            matches.append(Match(CODE, layer.name, False, plan))
            continue
        channels, (height, width) = plan
        matches.append(Match(CODE, layer.name, True, f"this nearest upsample ×{height}×{width} stops gradients: a "
                             f"frozen {height} × {width} transposed convolution over the {channels} channels "
                             "computes the same and passes them"))
    return matches
