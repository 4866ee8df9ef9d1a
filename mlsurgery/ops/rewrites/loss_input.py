"""A loss that reads a trailing reshape or squeeze is moved to the blob before it, with the target shaped to match.

Core ML does not backpropagate through reshape-like layers, so an MSE loss on a model output that a reshape
writes (the seed's 1 × K splitter: sigmoid → reshape → output) reaches no trainable layer. Those layers only
regroup the same values, so the loss can read the blob before them: the MSE target becomes that blob's shape
(the app feeds the same numbers, shaped as the loss input), and a cross-entropy loss moves only when the blob
before is a softmax output. Prediction is untouched: the loss is not part of the inference graph.
"""

from __future__ import annotations

from ...changes import Changes
from ...coreml import LossKind
from ...edit import set_loss_input
from ...shapes.nd import feature_shape
from ...rewrite_matches.base import Match, NetworkFacts
from ...rewrite_matches.loss_input import CODE, find, source_before_chain
from .base import Rewrite


def apply(spec, match: Match) -> Changes:
    facts = NetworkFacts.of_spec(spec)
    network, description = facts.graph.network, facts.graph.model.description
    loss = next(loss for loss in network.updateParams.lossLayers if loss.name == match.layer)
    kind = loss.WhichOneof("LossLayerType")
    params = getattr(loss, kind)
    source = source_before_chain(facts, params.input)
    changes = Changes("loss before reshape")
    changes.extend(set_loss_input(spec, loss.name, source))
    if kind == LossKind.MSE.field and facts.shape(source) is not None:
        shape = feature_shape(facts.shape(source), facts.exact_ranks)
        for feature in description.trainingInput:
            if feature.name == params.target and feature.type.WhichOneof("Type") == "multiArrayType":
                del feature.type.multiArrayType.shape[:]
                feature.type.multiArrayType.shape.extend(shape)
                changes.add(f"training input {feature.name}", f"shape → {shape}, the shape of {source!r}")
    return changes


REWRITE = Rewrite(CODE, "loss-before-reshape", find, apply)
