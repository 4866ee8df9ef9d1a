"""A ``reshapeStatic`` / ``reshape`` / ``flattenTo2D`` / ``squeeze`` that only flattens → ``flatten``.

Core ML does not backpropagate through reshape-like layers, only through ``flatten``, so a converter's flattening
reshape between a convolution stack and the dense head hides every convolution from the loss. ``flatten``
(CHANNEL_FIRST) turns ``[..., C, H, W]`` into ``[..., C·H·W, 1, 1]`` in row-major order (NeuralNetwork.proto,
FlattenLayerParams), which is the order the reshape-like layers keep; a legacy ``reshape`` in CHANNEL_LAST order
reorders the data and is refused. In a rank-5 network the reshape's ``(C·H·W, 1, 1)`` target is exactly
flatten's output and the layer is simply replaced; in an exact-rank network the reshape drops to rank 2 while
flatten keeps rank 4, so the layers after it run on the lifted ``[N, K, 1, 1]`` blobs (see ``lift``). A
``squeeze``/``reshape`` that only drops the trailing ``1, 1`` of such a blob disappears the same way.
"""

from __future__ import annotations

from ...coreml import UPDATABLE_LAYER_KINDS
from ...network import ancestors
from ..changes import Changes
from .base import REGROUPING_KINDS, Match, NetworkFacts, Rewrite
from .lift import apply_lift, plan_lift, regrouping_chain, role

CODE = "MLS502"


def _chain_ends(facts: NetworkFacts):
    """Regrouping layers whose output is read by something other than another regrouping layer."""
    graph = facts.graph
    for layer in graph.layers:
        if layer.kind not in REGROUPING_KINDS or len(layer.outputs) != 1:
            continue
        consumers = graph.blob_consumers.get(layer.outputs[0], [])
        if not consumers or all(consumer.kind in REGROUPING_KINDS for consumer in consumers):
            continue  # a trailing reshape (read by the loss at most) is loss_input's case
        producer = graph.blob_producer.get(layer.inputs[0]) if layer.inputs else None
        upstream = [producer, *ancestors([producer])] if producer is not None else []
        if not any(candidate.kind in UPDATABLE_LAYER_KINDS for candidate in upstream):
            continue  # nothing before it could be trained, so its blocking costs nothing
        yield layer, consumers


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for layer, consumers in _chain_ends(facts):
        chain = regrouping_chain(facts, layer)
        if chain is None:
            shape_in = facts.shape(layer.inputs[0])
            shape_out = facts.shape(layer.outputs[0])
            if shape_in is None or shape_out is None:
                reason = "the shapes around it cannot be inferred"
            elif layer.kind == "reshape" and layer.params.mode != 0:
                reason = "it reshapes in channel-last order, which reorders the data"
            else:
                reason = f"it turns {list(shape_in)} into {list(shape_out)}, which is not a flatten"
            matches.append(Match(CODE, layer.name, False, reason))
            continue
        plan = plan_lift(facts, consumers)
        if layer.index not in plan.chains:
            matches.append(Match(CODE, layer.name, False, "the layers it feeds cannot run on flatten's rank-4 output"))
            continue
        if chain.becomes == "flatten":
            what = "becomes flatten, which passes gradients"
        else:
            what = "on rank-4 blobs it changes nothing, so it is removed"
        matches.append(Match(CODE, layer.name, True, f"it only regroups {list(facts.shape(chain.source))} into "
                             f"{list(facts.shape(chain.end))}, and stops gradients: {what}"))
    return matches


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    layer = facts.graph.layer(match.layer)
    consumers = [c for c in facts.graph.blob_consumers.get(layer.outputs[0], []) if role(facts, c) is not None]
    return apply_lift(facts, plan_lift(facts, consumers), "reshape → flatten")


REWRITE = Rewrite(CODE, "reshape-to-flatten", find, apply)
