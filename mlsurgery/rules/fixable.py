"""Converter output that ``mlsurgery fix`` (or, for an ML Program, ``convert``) can rewrite so Core ML can train
it (MLS5xx, severity "info").

Core ML accepts these networks; they only keep gradients from reaching the layers a user wants to train, or keep
a cross-entropy loss from finding its softmax. Each rule reports the matches of one rewrite in
``mlsurgery.rewrite_matches`` (rules only report; ``mlsurgery fix --only CODE`` applies), and says why when the
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

_GRAPH = "mlmodel/src/Validation/NeuralNetwork/NeuralNetworkValidatorGraph.hpp (isLayerSupportedForBackprop)"

AFFINE_TO_CONVOLUTION = _rule(
    "MLS505", "affine-to-convolution",
    "A per-channel or scalar scale, bias or linear activation can be rewritten as a frozen 1 × 1 convolution.",
    "Image-to-image models end in a deprocess layer (tanh → scale 127.5, bias 127.5). Core ML does not "
    "backpropagate through scale, bias or a linear activation, so no layer before it can train. A 1 × 1 "
    "convolution with diagonal weights (the scale) and the bias computes the same y[c] = s[c]·x[c] + b[c] and "
    "passes gradients; it is not marked updatable, and the layer keeps its name, input and output. A scale or "
    "bias that varies over H and W is not a channel affine and is not rewritten.",
    "mlsurgery fix MODEL --only MLS505 (or make-updatable --fix).", f"{_PROTO} (ScaleLayerParams, "
    f"BiasLayerParams, ActivationLinear, ConvolutionLayerParams); {_GRAPH}")

CONSTANT_TO_CONVOLUTION = _rule(
    "MLS506", "constant-to-convolution",
    "Adding or multiplying by a per-channel constant can be rewritten as a frozen 1 × 1 convolution.",
    "An add or multiply with one input and alpha, or whose other input a loadConstant(ND) writes with one value "
    "per channel ([C, 1, 1] or all ones), stops gradients. A 1 × 1 convolution with diagonal weights (the factor, "
    "or 1) and bias (the addend, or 0) computes the same and passes them; the constant layer goes when nothing "
    "else reads it. Constants that vary over H and W are not rewritten.",
    "mlsurgery fix MODEL --only MLS506 (or make-updatable --fix).", f"{_PROTO} (AddLayerParams, "
    f"MultiplyLayerParams, LoadConstantParams, AddBroadcastableLayerParams); {_GRAPH}")

REDUCE_TO_POOLING = _rule(
    "MLS507", "reduce-to-global-pooling",
    "A mean or sum over H and W can be rewritten as global average pooling.",
    "reduce (axis HW, AVG or SUM) and reduceMean/reduceSum over the last two axes with keepDims stop gradients; "
    "global average pooling computes the per-channel mean over H and W and passes them (a sum adds a frozen 1 × 1 "
    "convolution multiplying by H·W). Other axes, other modes and keepDims false are not rewritten.",
    "mlsurgery fix MODEL --only MLS507 (or make-updatable --fix).", f"{_PROTO} (ReduceLayerParams, "
    f"ReduceMeanLayerParams, PoolingLayerParams); {_GRAPH}")

UPSAMPLE_TO_DECONVOLUTION = _rule(
    "MLS508", "upsample-to-deconvolution",
    "A nearest-neighbour upsample by integer factors can be rewritten as a frozen transposed convolution.",
    "Core ML does not backpropagate through upsample, but its walk passes every convolution layer, deconvolutions "
    "included (the validator checks the layer case, never isDeconvolution). A deconvolution with kernel = stride = "
    "the factors and weights 1 from each channel to itself copies each pixel onto its block, exactly nearest "
    "upsampling. Bilinear upsampling is not rewritten: it samples clamped at the border, which no transposed "
    "convolution reproduces, so predictions would change at the edges; attach the loss before it instead.",
    "mlsurgery fix MODEL --only MLS508 (or make-updatable --fix).", f"{_PROTO} (UpsampleLayerParams, "
    f"ConvolutionLayerParams); {_GRAPH}; {_WALK}")

CLIP_TO_RELU = _rule(
    "MLS509", "clip-to-relu",
    "A clip or threshold (clamp, a ReLU6 part) can be rewritten as frozen 1 × 1 convolutions around ReLUs.",
    "PyTorch's clamp becomes clip and TensorFlow's ReLU6 a unary THRESHOLD; Core ML backpropagates through "
    "neither. Both are single-path ReLU expressions: max(x, a) = a + ReLU(x − a), and min(max(x, a), b) = "
    "b − ReLU(b − a − ReLU(x − a)), so frozen diagonal 1 × 1 convolutions around ReLUs compute the same (up to "
    "the rounding of subtracting and adding the bound back) and pass gradients. The last convolution keeps the "
    "layer's name and output.",
    "mlsurgery fix MODEL --only MLS509 (or make-updatable --fix).", f"{_PROTO} (ClipLayerParams, "
    f"UnaryFunctionLayerParams, ActivationReLU); {_GRAPH}")

ML_PROGRAM = _rule(
    "MLS510", "ml-program-to-neural-network",
    "An ML Program can be converted to a NeuralNetwork, which Core ML can train; its operations are not checked.",
    "Core ML trains only NeuralNetwork models, and coremltools 7+ writes ML Programs (.mlpackage) by default. "
    "The open-source validator accepts an ML Program after the generic checks without looking at its program "
    "(Model.cpp: case MLModelType_mlProgram returns {}); Core ML checks the functions and operations only when it "
    "compiles the model on the device, with a MIL validator that is not public and that mlsurgery has not ported. "
    "So for an ML Program \"valid\" covers the model description, version and interface rules only.",
    "mlsurgery convert MODEL.mlpackage -o MODEL.mlmodel (every command that writes a model converts first), then "
    "validate the NeuralNetwork, which mlsurgery checks fully.", "mlmodel/src/Model.cpp (validate)")

RULES: list[Rule] = [SOFTMAX_ND, BATCHED_MATMUL, RESHAPE_TO_FLATTEN, IDENTITY_LAYER, LOSS_AFTER_RESHAPE,
                     AFFINE_TO_CONVOLUTION, CONSTANT_TO_CONVOLUTION, REDUCE_TO_POOLING, UPSAMPLE_TO_DECONVOLUTION,
                     CLIP_TO_RELU, ML_PROGRAM]
_BY_CODE = {rule.code: rule for rule in RULES}


def check_fixable(spec, where: str = "") -> list[Finding]:
    """One finding per match of each rewrite in an NN-kind ``spec``: fixable, or why not."""
    from ..network import LayerGraph
    from ..rewrite_matches import NetworkFacts, find_matches

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


def check_ml_program(spec, where: str = "") -> list[Finding]:
    """An ML Program passes Core ML's generic checks, but its program is not validated here: say so, and how to
    get a model Core ML can train."""
    return [ML_PROGRAM.finding(
        f"an ML Program ({len(spec.mlProgram.functions)} function(s)): mlsurgery checked its description and "
        "version, not its operations (Core ML checks those only when compiling it on the device); Core ML trains "
        "only NeuralNetwork models — `mlsurgery convert` makes one", where=where)]
