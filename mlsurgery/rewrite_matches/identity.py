"""Where an identity layer (``copy``, linear activation 1·x + 0) can be removed (MLS503).

The rewrite itself, and why it computes the same: mlsurgery/ops/rewrites/identity.py."""

from __future__ import annotations

from .base import Match, NetworkFacts

CODE = "MLS503"


def _is_identity(layer) -> bool:
    if layer.kind == "copy":
        return True
    if layer.activation == "linear":
        linear = layer.params.linear
        return linear.alpha == 1.0 and linear.beta == 0.0
    return False


def find(facts: NetworkFacts) -> list[Match]:
    graph, matches = facts.graph, []
    for layer in facts.layers_of("copy", "activation"):
        if not _is_identity(layer) or len(layer.inputs) != 1 or len(layer.outputs) != 1:
            continue
        source, target = layer.inputs[0], layer.outputs[0]
        label = "copy" if layer.kind == "copy" else "linear activation (alpha 1, beta 0)"
        if not (facts.written_once(source) and facts.written_once(target)):
            matches.append(Match(CODE, layer.name, False, f"this {label} reads or writes a blob that is written "
                                 "more than once or used inside a loop or branch"))
        elif target in graph.output_names and (source not in graph.blob_producer or source in graph.output_names):
            matches.append(Match(CODE, layer.name, False, f"this {label} copies {source!r} to the model output "
                                 f"{target!r}, and {source!r} is itself a model input or output"))
        else:
            matches.append(Match(CODE, layer.name, True, f"this {label} computes nothing but stops gradients: "
                                 "remove it"))
    return matches
