"""A loss that reads a trailing reshape or squeeze is moved to the blob before it, with the target shaped to match.

Core ML does not backpropagate through reshape-like layers, so an MSE loss on a model output that a reshape
writes (the seed's 1 × K splitter: sigmoid → reshape → output) reaches no trainable layer. Those layers only
regroup the same values, so the loss can read the blob before them: the MSE target becomes that blob's shape
(the app feeds the same numbers, shaped as the loss input), and a cross-entropy loss moves only when the blob
before is a softmax output. Prediction is untouched: the loss is not part of the inference graph.
"""

from __future__ import annotations

from ...backprop import loss_nodes
from ...coreml import LossKind
from ...shapes.nd import feature_shape
from ..changes import Changes
from .base import Match, NetworkFacts, Rewrite

CODE = "MLS504"


def _source_before_chain(facts: NetworkFacts, blob: str | None):
    """The blob the reshape-like layers writing ``blob`` start from, when a layer writes it; else None."""
    from ..loss import before_trailing_regrouping

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
        if producer is None or producer.kind not in ("reshapeStatic", "reshape", "flattenTo2D", "squeeze",
                                                    "expandDims"):
            continue
        source = _source_before_chain(facts, loss.input)
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


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    network, description = facts.graph.network, facts.graph.model.description
    loss = next(loss for loss in network.updateParams.lossLayers if loss.name == match.layer)
    kind = loss.WhichOneof("LossLayerType")
    params = getattr(loss, kind)
    old, source = params.input, _source_before_chain(facts, params.input)
    params.input = source
    changes = Changes("loss before reshape")
    changes.add(f"loss {loss.name}", f"reads {source!r} instead of {old!r}")
    if kind == LossKind.MSE.field and facts.shape(source) is not None:
        shape = feature_shape(facts.shape(source), facts.exact_ranks)
        for feature in description.trainingInput:
            if feature.name == params.target and feature.type.WhichOneof("Type") == "multiArrayType":
                del feature.type.multiArrayType.shape[:]
                feature.type.multiArrayType.shape.extend(shape)
                changes.add(f"training input {feature.name}", f"shape → {shape}, the shape of {source!r}")
    return changes


REWRITE = Rewrite(CODE, "loss-before-reshape", find, apply)
