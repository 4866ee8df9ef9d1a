"""Where a reshape-like layer that only flattens can become ``flatten`` (MLS502).

The rewrite itself, and why it computes the same: mlsurgery/ops/rewrites/flatten.py."""

from __future__ import annotations

from ..coreml import REGROUPING_KINDS, UPDATABLE_LAYER_KINDS
from .base import Match, NetworkFacts
from .lift import plan_lift, regrouping_chain

CODE = "MLS502"


def _chain_ends(facts: NetworkFacts):
    """Regrouping layers whose output is read by something other than another regrouping layer."""
    graph = facts.graph
    for layer in facts.layers_of(*REGROUPING_KINDS):
        if len(layer.outputs) != 1:
            continue
        consumers = graph.blob_consumers.get(layer.outputs[0], [])
        if not consumers or all(consumer.kind in REGROUPING_KINDS for consumer in consumers):
            continue  # a trailing reshape (read by the loss at most) is loss_input's case
        producer = graph.blob_producer.get(layer.inputs[0]) if layer.inputs else None
        if producer is None or not facts.reaches([producer], UPDATABLE_LAYER_KINDS):
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
