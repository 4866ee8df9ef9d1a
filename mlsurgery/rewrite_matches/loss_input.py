"""Where a loss reading a trailing reshape or squeeze can read the blob before it (MLS504).

The rewrite itself, and why it computes the same: mlsurgery/ops/rewrites/loss_input.py."""

from __future__ import annotations

from ..backprop import loss_nodes
from ..coreml import REGROUPING_KINDS, LossKind
from .base import Match, NetworkFacts, before_trailing_regrouping

CODE = "MLS504"


def source_before_chain(facts: NetworkFacts, blob: str | None):
    """The blob the reshape-like layers writing ``blob`` start from, when a layer writes it; else None."""
    if not blob or blob not in facts.graph.blob_producer:
        return None
    source = before_trailing_regrouping(facts.graph, blob)
    return source if source != blob else None


def find(facts: NetworkFacts) -> list[Match]:
    matches = []
    for loss in loss_nodes(facts.graph.network):
        if loss.kind is None:
            continue
        producer = facts.graph.blob_producer.get(loss.input)
        if producer is None or producer.kind not in REGROUPING_KINDS:
            continue
        source = source_before_chain(facts, loss.input)
        if source is None:
            matches.append(Match(CODE, loss.name, False, f"the loss reads {loss.input!r}, written by "
                                 f"{producer.type_label} {producer.name!r}, which does not only regroup a blob "
                                 "another layer writes"))
        elif loss.kind == LossKind.CROSS_ENTROPY and facts.graph.blob_producer[source].kind != "softmax":
            matches.append(Match(CODE, loss.name, False, f"the blob before {producer.name!r} is not a softmax output"))
        else:
            matches.append(Match(CODE, loss.name, True, f"the loss reads {loss.input!r} after {producer.type_label} "
                                 f"{producer.name!r}, which stops gradients: read {source!r} instead"))
    return matches
