"""Converter output that ``mlsurgery fix`` can rewrite so Core ML can train it (MLS5xx, severity "info").

Core ML accepts these networks; they only keep gradients from reaching the layers a user wants to train, or keep
a cross-entropy loss from finding its softmax. Each rule reports the matches of one rewrite in
``mlsurgery.ops.rewrites`` (rules only report; ``mlsurgery fix --only CODE`` applies), and says why when the
rewrite cannot apply. Upstream facts: the layer semantics in mlmodel/format/NeuralNetwork.proto, and the layer
kinds Core ML backpropagates through (UpdatableNeuralNetworkValidator.cpp, NeuralNetworkValidatorGraph.hpp).
"""

from __future__ import annotations

from ..network import NetworkLocation
from .base import INFO, Finding, Rule, define_rule

_PROTO = "mlmodel/format/NeuralNetwork.proto"
_WALK = "mlmodel/src/Validation/NeuralNetwork/UpdatableNeuralNetworkValidator.cpp"


def _rule(code, name, summary, explanation, fix, upstream) -> Rule:
    return define_rule(code, name, summary, explanation, fix, upstream, severity=INFO)


SOFTMAX_ND = _rule(
    "MLS500", "softmax-nd-to-softmax", "A softmaxND that softmax can compute can be rewritten as softmax.",
    "Cross-entropy needs a softmax layer (MLS206), and coremltools 9 emits softmaxND. Core ML's softmax "
    "normalises axis -3 of a rank ≥ 3 blob, so a softmaxND on that axis is replaced directly; one over the last "
    "axis of a rank ≤ 3 blob (a converted classifier's [N, K] logits) becomes a softmax on the lifted [N, K, 1, 1] "
    "blob, with the dense layers before it running on rank-4 blobs and a reshape restoring the output's shape. "
    "Any other axis is something softmax does not compute, and is not rewritten.",
    "mlsurgery fix MODEL --only MLS500 (or make-updatable --fix).", f"{_PROTO} (SoftmaxLayerParams, "
    "SoftmaxNDLayerParams, InnerProductLayerParams)")

BATCHED_MATMUL = _rule(
    "MLS501", "batched-matmul-to-inner-product",
    "A batchedMatMul with a constant weight can be rewritten as an innerProduct, which Core ML can train.",
    "Converters emit dense layers as batchedMatMul, which cannot be marked updatable (MLS201) and does not pass "
    "gradients. With one input its weight is stored in innerProduct's [out, in] layout, and on inputs of rank 1 "
    "to 3 both multiply the last axis, so the weights and bias move over unchanged. Two-input products, the int8 "
    "dynamic quantisation mode and inputs of rank 4 or 5 (innerProduct flattens the last three axes there) are "
    "not rewritten.",
    "mlsurgery fix MODEL --only MLS501 (or make-updatable --fix).", f"{_PROTO} (BatchedMatMulLayerParams, "
    "InnerProductLayerParams)")

RESHAPE_TO_FLATTEN = _rule(
    "MLS502", "reshape-to-flatten", "A reshape-like layer that only flattens can be rewritten as flatten.",
    "Core ML does not backpropagate through reshapeStatic, reshape, flattenTo2D, squeeze or expandDims, so one "
    "between a convolution stack and the dense head hides every convolution from the loss. flatten "
    "(channel-first) passes gradients and keeps the row-major order these layers keep, but keeps the rank: "
    "[N, C·H·W, 1, 1]. In a rank-5 network the layer is replaced; in an exact-rank one the layers after it run "
    "on the lifted rank-4 blobs. A channel-last reshape reorders the data and is not rewritten.",
    "mlsurgery fix MODEL --only MLS502 (or make-updatable --fix).", f"{_PROTO} (FlattenLayerParams, "
    f"ReshapeLayerParams, ReshapeStaticLayerParams); {_WALK}")

IDENTITY_LAYER = _rule(
    "MLS503", "remove-identity-layer", "An identity layer (copy, linear activation 1·x + 0) can be removed.",
    "The layer computes nothing, but Core ML's backpropagation walk stops at it, hiding every layer before it "
    "from the loss. Its readers read its input instead (or the layer before writes the model output). Not "
    "removed when its blobs are written more than once or used in a loop or branch body.",
    "mlsurgery fix MODEL --only MLS503 (or make-updatable --fix).", f"{_PROTO} (ActivationLinear, "
    f"CopyLayerParams); {_WALK}")

LOSS_AFTER_RESHAPE = _rule(
    "MLS504", "loss-before-reshape", "A loss reading a trailing reshape or squeeze can read the blob before it.",
    "A reshape-like layer between the trainable layers and the loss stops every gradient (MLS218). It only "
    "regroups values, so the loss can read the blob before it: an MSE target then takes that blob's shape (the "
    "same numbers, shaped as the loss input), and cross-entropy moves only onto a softmax output.",
    "mlsurgery fix MODEL --only MLS504 (make-updatable places a new loss there itself).",
    f"{_WALK} (isTrainingConfigurationSupported)")

RULES: list[Rule] = [SOFTMAX_ND, BATCHED_MATMUL, RESHAPE_TO_FLATTEN, IDENTITY_LAYER, LOSS_AFTER_RESHAPE]
_BY_CODE = {rule.code: rule for rule in RULES}


def check_fixable(spec, where: str = "") -> list[Finding]:
    """One finding per match of each rewrite in an NN-kind ``spec``: fixable, or why not."""
    from ..network import LayerGraph
    from ..ops.rewrites import NetworkFacts, find_matches

    facts = NetworkFacts(LayerGraph(NetworkLocation(spec, spec.WhichOneof("Type"))))
    findings = []
    for match in find_matches(facts):
        rule = _BY_CODE[match.code]
        if match.fixable:
            message = f"'{match.layer}': {match.detail} (fixable: mlsurgery fix --only {match.code})"
        else:
            message = f"'{match.layer}' is not rewritten ({rule.name}): {match.detail}"
        findings.append(rule.finding(message, layer=match.layer, where=where))
    return findings
