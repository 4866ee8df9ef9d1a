"""Per-layer checks and the graph walk of Core ML's NeuralNetworkSpecValidator (part of MLS1xx).

Upstream: mlmodel/src/Validation/NeuralNetwork/NeuralNetworkValidator.cpp (``validateNeuralNetwork``,
``validateLayer``), NeuralNetworkLayerValidator.cpp (one function per layer type),
NeuralNetworkValidatorUtils.hpp (input/output counts, ranks, weight sizes, activations),
mlmodel/src/Validation/ValidatorUtils-inl.hpp (how a WeightParams stores its values) and
QuantizationValidationUtils.cpp.

``NetworkWalker`` walks the layers in order exactly as Core ML does: per layer the inputTensor/outputTensor
messages (only for networks with N-D array interpretation), then the layer's own checks, then "every input
is produced earlier", then "no output overwrites a blob" (except copy layers). Core ML stops at the first
problem; we report at most one problem from a layer's own checks (later ones may depend on it) and keep
walking, so the first problem is Core ML's.

Arithmetic follows the C++ types: unsigned 64-bit products wrap, ``(int)`` casts keep 32 bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._proto import nn_pb2
from ..coreml import UINT64_MASK, c_div, int32, is_quantized, uint64_product
from .base import Rule, define_rule

_NETWORK_VALIDATOR = "mlmodel/src/Validation/NeuralNetwork/NeuralNetworkValidator.cpp"
_LAYER_VALIDATOR = "mlmodel/src/Validation/NeuralNetwork/NeuralNetworkLayerValidator.cpp"
_VALIDATOR_UTILS = "mlmodel/src/Validation/NeuralNetwork/NeuralNetworkValidatorUtils.hpp"


LAYER_TENSORS = define_rule(
    "MLS107", "layer-tensor-ranks", "A layer's inputTensor/outputTensor rank information is inconsistent.",
    "In networks with N-D array interpretation (spec version ≥ 4 layers or EXACT_ARRAY_MAPPING) a layer may "
    "describe the rank of each input and output: the lists must be as long as input/output, each rank must match "
    "its dimValue length and be positive, agree with the model description for model inputs and outputs, and "
    "agree everywhere a blob is mentioned.",
    "Fix or remove the layer's inputTensor/outputTensor entries (coremltools rewrites them when you rebuild the "
    "layer with NeuralNetworkBuilder).",
    f"{_NETWORK_VALIDATOR} (validateNeuralNetwork), {_VALIDATOR_UTILS} (validateTensorMessage)")
LAYER_IO_COUNT = define_rule(
    "MLS108", "layer-input-output-count", "A layer has a wrong number of inputs or outputs.",
    "Each layer type takes a fixed range of inputs and outputs (e.g. innerProduct exactly one of each, concat "
    "at least two inputs, uniDirectionalLSTM one to three inputs and exactly three outputs).",
    "Give the layer the number of input and output blobs its type requires.",
    f"{_LAYER_VALIDATOR}, {_VALIDATOR_UTILS} (validateInputCount, validateOutputCount)")
LAYER_RANK = define_rule(
    "MLS109", "layer-rank", "A layer's input or output rank is outside what its type accepts.",
    "In networks with N-D array interpretation Core ML knows the rank of model inputs/outputs and of blobs "
    "with inputTensor/outputTensor entries, and checks them per layer type (e.g. convolution needs rank ≥ 4, "
    "innerProduct 1…5, equal input and output ranks for most layers).",
    "Reshape or expand the blob to the rank the layer needs, or fix the declared ranks.",
    f"{_LAYER_VALIDATOR}, {_VALIDATOR_UTILS} (checkRank, validateRankCount, validateInputOutputRankEquality)")
WEIGHT_COUNT = define_rule(
    "MLS110", "weight-count", "A layer's weight or bias count does not match its declared dimensions.",
    "Core ML counts the values in each WeightParams: convolution weights must hold outputChannels × "
    "kernelChannels × kernelHeight × kernelWidth values (deconvolution: kernelChannels × outputChannels/nGroups × "
    "kh × kw) and the bias outputChannels; innerProduct weights inputChannels × outputChannels and the bias "
    "outputChannels; batchnorm gamma/beta/mean/variance `channels`; and so on. Widening or narrowing a layer "
    "without resizing its weights (or changing weights without updating the declared sizes) breaks this.",
    "Resize the weights/bias to the declared dimensions, or update the declared dimensions to the weights.",
    f"{_LAYER_VALIDATOR}, {_VALIDATOR_UTILS} (validateGeneralWeightParams)")
WEIGHT_PRECISION = define_rule(
    "MLS111", "weight-precision", "A layer mixes half- and full-precision parameters, or fills several value fields.",
    "A WeightParams must use exactly one storage (floatValue, float16Value, rawValue, int8RawValue), and a "
    "layer's weights and bias must have the same precision: fp16 weights with an fp32 bias (or the reverse) "
    "are rejected, as are mixed-precision batchnorm, scale, recurrent and LSTM parameters.",
    "Store all of the layer's parameters in one precision: convert the fp16 ones to fp32 (or all to fp16), and "
    "clear the unused value fields.",
    f"{_LAYER_VALIDATOR}, mlmodel/src/Validation/ValidatorUtils-inl.hpp (valueType), {_VALIDATOR_UTILS} "
    "(isWeightParamTypeCompatible)")
WEIGHTS_MISSING = define_rule(
    "MLS112", "weights-missing", "A layer's required weights or bias are empty.",
    "Layers that carry parameters must store them as fp32, fp16 or quantized (rawValue + quantization) values; "
    "an empty WeightParams (or int8RawValue where only quantized rawValue is accepted) is rejected.",
    "Fill the layer's weights/bias, or clear hasBias when there is no bias.",
    f"{_LAYER_VALIDATOR}, {_VALIDATOR_UTILS} (validateGeneralWeightParams)")
QUANTIZATION = define_rule(
    "MLS113", "quantized-weights", "A layer's quantized weights are inconsistent.",
    "Quantized weights need enough rawValue bytes for numberOfBits × count, 1…8 bits, linear quantization with "
    "1 or outputChannels scales (and as many biases or none), or a lookup table of 2^bits entries; "
    "int8DynamicQuantize needs 8-bit linear int8 weights with one scale and no bias.",
    "Re-quantize the layer with coremltools (quantization_utils) instead of editing quantized weights by hand.",
    "mlmodel/src/Validation/QuantizationValidationUtils.cpp, mlmodel/src/Validation/ValidatorUtils-inl.hpp "
    "(validateInt8Requirements)")
LAYER_PARAMETERS = define_rule(
    "MLS114", "layer-parameters", "A layer's parameters are invalid for its type.",
    "Per-layer parameter checks: padding type set for convolution and pooling, 3-D or 4-D reshape target, 4-D "
    "permute axes, valid upsample factors, crop amounts, slice indices, axes within rank, required target shapes, "
    "and similar.",
    "Fix the named parameter of the layer (the message says which).",
    _LAYER_VALIDATOR)
UNSUPPORTED_LAYER = define_rule(
    "MLS115", "unsupported-layer", "A layer (or activation) has an unknown or unset type.",
    "A NeuralNetworkLayer must set one of the known layer types, and an activation one of the known "
    "non-linearities; an unset oneof (or a type from a newer format that this Core ML does not know) is rejected.",
    "Set the layer's type, or convert the model with a coremltools version that matches your deployment target.",
    f"{_NETWORK_VALIDATOR} (validateFailUnknownType), {_VALIDATOR_UTILS} (validateActivationParams)")
MISSING_INPUT_BLOB = define_rule(
    "MLS116", "missing-input-blob", "A layer reads a blob that no earlier layer or model input provides.",
    "Core ML walks the layers in order: every layer input must be a model input or the output of an earlier "
    "layer. Deleting or renaming a layer, or reordering layers, breaks this.",
    "Rename the layer input to an existing blob, add the layer that produces it, or move the producer earlier.",
    f"{_NETWORK_VALIDATOR} (validateNeuralNetwork)")
DUPLICATE_OUTPUT_BLOB = define_rule(
    "MLS117", "duplicate-output-blob", "A layer writes a blob that a model input or an earlier layer already provides.",
    "Each blob may be produced once (model inputs count as producers); only a copy layer may write a blob that "
    "already exists.",
    "Give the layer's output a new name and update the layers that read it.",
    f"{_NETWORK_VALIDATOR} (validateNeuralNetwork)")
CONTROL_FLOW = define_rule(
    "MLS118", "control-flow", "A branch or loop layer (or loopBreak/loopContinue) is malformed.",
    "Branch layers need their condition blob and a non-empty if-branch; loop layers a non-empty body, a condition "
    "variable exactly when there is a condition network, and a way to stop; loopBreak/loopContinue must sit "
    "inside a loop body. The nested networks are validated like the main one.",
    "Fix the control-flow layer's nested networks or parameters as the message says.",
    f"{_LAYER_VALIDATOR} (validateBranchLayer, validateLoopLayer, validateLoopContinueBreakLayer)")

RULES: list[Rule] = [LAYER_TENSORS, LAYER_IO_COUNT, LAYER_RANK, WEIGHT_COUNT, WEIGHT_PRECISION, WEIGHTS_MISSING,
                     QUANTIZATION, LAYER_PARAMETERS, UNSUPPORTED_LAYER, MISSING_INPUT_BLOB, DUPLICATE_OUTPUT_BLOB,
                     CONTROL_FLOW]

Problem = tuple[Rule, str]
MODEL_INPUT_PRODUCER = "__input"  # the producer name Core ML records for model inputs



# How a WeightParams stores its values (ValidatorUtils-inl.hpp valueType).
FLOAT32, FLOAT16, QUINT, QINT, UNSPECIFIED, EMPTY = "fp32", "fp16", "quantized", "int8", "several fields", "empty"


def value_type(weights) -> str:
    filled = [len(weights.floatValue) > 0, len(weights.float16Value) > 0, len(weights.rawValue) > 0,
              len(weights.int8RawValue) > 0]
    if sum(filled) > 1:
        return UNSPECIFIED
    if len(weights.floatValue):
        return FLOAT32
    if weights.float16Value:
        return FLOAT16
    if weights.rawValue and is_quantized(weights):
        return QUINT
    if weights.int8RawValue and is_quantized(weights):
        return QINT
    return EMPTY


def _float_count(weights, kind: str) -> int:
    return len(weights.floatValue) if kind == FLOAT32 else len(weights.float16Value) // 2


def quantization_problem(weights, expected_size: int) -> str | None:
    """hasValidQuantizationParams: what is wrong with a WeightParams' quantization, or None."""
    if not is_quantized(weights):
        return "no quantization parameters"
    quantization = weights.quantization
    bits = quantization.numberOfBits
    if not 1 <= bits <= 8:
        return f"numberOfBits is {bits}, not 1…8"
    which = quantization.WhichOneof("QuantizationType")
    if which == "linearQuantization":
        scales = len(quantization.linearQuantization.scale)
        biases = len(quantization.linearQuantization.bias)
        if scales not in (1, expected_size):
            return f"{scales} linear-quantization scales, not 1 or {expected_size}"
        if biases not in (0, scales):
            return f"{biases} linear-quantization biases, not 0 or {scales}"
        return None
    if which == "lookupTableQuantization":
        entries = len(quantization.lookupTableQuantization.floatValue)
        if entries != 2 << (bits - 1):
            return f"a lookup table of {entries} entries, not 2^{bits}"
        return None
    return "neither linear nor lookup-table quantization"


def general_weights_problem(weights, expected: int, out_channels: int, where: str, what: str) -> Problem | None:
    """validateGeneralWeightParams: ``where`` names the layer (e.g. "batchnorm layer 'bn'"), ``what`` the field."""
    kind = value_type(weights)
    if kind in (FLOAT32, FLOAT16):
        size = _float_count(weights, kind)
        if size != expected:
            return WEIGHT_COUNT, (f"{where}: {what} has {size} values but Core ML expects {expected}; resize "
                                  f"{what} or fix the layer's declared dimensions")
        return None
    if kind == QUINT:
        needed = (uint64_product(weights.quantization.numberOfBits, expected) + 7) // 8
        if len(weights.rawValue) < needed:
            return QUANTIZATION, (f"{where}: quantized {what} has {len(weights.rawValue)} bytes, fewer than the "
                                  f"{needed} needed for {expected} values; re-quantize the layer")
        problem = quantization_problem(weights, int32(out_channels))
        if problem:
            return QUANTIZATION, (f"{where}: quantized {what} has invalid quantization parameters ({problem}); "
                                  "re-quantize the layer with coremltools")
        return None
    if kind == UNSPECIFIED:
        return WEIGHT_PRECISION, (f"{where}: {what} fills several value fields (Core ML: \"unspecified\"); keep "
                                  "exactly one of floatValue, float16Value, rawValue, int8RawValue")
    return WEIGHTS_MISSING, (f"{where}: {what} is empty (no fp32, fp16 or quantized rawValue values); fill "
                             f"{what} with {expected} values")


def _mixed_precision(*kinds: str) -> bool:
    return FLOAT32 in kinds and FLOAT16 in kinds


def _precision_problem(where: str, what: str) -> Problem:
    return WEIGHT_PRECISION, (f"{where}: {what} mix half and full precision; store them all as fp32 or all as "
                              "fp16")


def _unmet_bound(value: int, low: int, high: int) -> str | None:
    """What Core ML expects of ``value`` when it breaks [low, high] ("exactly 2", "at least 1"), else None.

    A zero or negative bound means no bound (validateInputCount, validateOutputCount, checkRank).
    """
    if high > 0 and high == low and value != high:
        return f"exactly {low}"
    if low > 0 and value < low:
        return f"at least {low}"
    if high > 0 and value > high:
        return f"at most {high}"
    return None


def _count_problem(layer, what: str, count: int, low: int, high: int) -> Problem | None:
    """validateInputCount / validateOutputCount."""
    expectation = _unmet_bound(count, low, high)
    if expectation is None:
        return None
    return LAYER_IO_COUNT, (f"{_label(layer)} has {count} {what}s but Core ML expects {expectation}; give it "
                            f"{expectation} {what} blob(s)")


def _label(layer) -> str:
    return f"{layer.WhichOneof('layer') or 'untyped'} layer '{layer.name}'"


def _rank_problem(layer, type_name: str, low: int, high: int, blob_role: str, rank: int) -> Problem | None:
    """checkRank."""
    expectation = _unmet_bound(rank, low, high)
    if expectation is None:
        return None
    return LAYER_RANK, (f"{_label(layer)}: {type_name} {blob_role} has rank {rank} but Core ML expects rank "
                        f"{expectation}; reshape the blob or fix the declared ranks")


def _axis_problem(layer, axis: int, rank: int, inclusive: bool = False) -> Problem | None:
    top = rank + 1 if inclusive else rank
    low = -(rank + 1) if inclusive else -rank
    if low <= axis < top:
        return None
    interval = f"[{low}, {top})"
    return LAYER_PARAMETERS, (f"{_label(layer)}: axis {axis} is outside {interval} for its rank-{rank} input; "
                              "use an axis within the input's rank")


def _missing_target(layer, what: str = "target shape") -> Problem:
    return LAYER_PARAMETERS, f"{_label(layer)}: {what} is a required parameter and is empty; set it"


def is_ios12_layer(layer) -> bool:
    """Utils.cpp isIOS12NeuralNetworkLayer: a layer Core ML 2 (specification version 3) already knew."""
    kind = layer.WhichOneof("layer")
    if kind == "convolution":
        return len(layer.input) == 1
    if kind == "innerProduct":
        return not layer.innerProduct.int8DynamicQuantize
    if kind == "upsample":
        defaults = nn_pb2().UpsampleLayerParams.DEFAULT
        return (layer.upsample.linearUpsampleMode == defaults
                and not len(layer.upsample.fractionalScalingFactor))
    if kind == "reorganizeData":
        return layer.reorganizeData.mode != nn_pb2().ReorganizeDataLayerParams.PIXEL_SHUFFLE
    return kind in _IOS12_LAYER_KINDS


def nd_array_interpretation(network) -> bool:
    """Whether Core ML treats the network's tensors as N-D (iOS 13+) rather than rank-5 (iOS 11/12): a new shape
    mapping or any layer newer than iOS 12 (validateNeuralNetworkTopLevel's ``ndArrayInterpretation``)."""
    return (network.arrayInputShapeMapping != 0 or network.imageInputShapeMapping != 0
            or not all(is_ios12_layer(layer) for layer in network.layers))


_IOS12_LAYER_KINDS = frozenset({
    "batchnorm", "activation", "pooling", "padding", "concat", "lrn", "softmax", "split", "add", "multiply", "unary",
    "bias", "l2normalize", "reshape", "flatten", "permute", "reduce", "loadConstant", "scale", "simpleRecurrent",
    "gru", "uniDirectionalLSTM", "biDirectionalLSTM", "crop", "average", "max", "min", "dot", "mvn", "embedding",
    "sequenceRepeat", "slice", "custom", "resizeBilinear", "cropResize"})

_ACTIVATIONS = frozenset({"ReLU", "leakyReLU", "tanh", "scaledTanh", "sigmoid", "sigmoidHard", "linear", "ELU",
                          "softplus", "PReLU", "parametricSoftplus", "thresholdedReLU", "softsign"})
_RECURRENT_ACTIVATIONS = frozenset({"linear", "sigmoid", "tanh", "scaledTanh", "sigmoidHard", "ReLU"})


def activation_problem(layer, activation) -> Problem | None:
    """validateActivationParams."""
    kind = activation.WhichOneof("NonlinearityType")
    if kind not in _ACTIVATIONS:
        return UNSUPPORTED_LAYER, (f"{_label(layer)}: the activation has no (or an unknown) non-linearity; set one "
                                   "of ReLU, tanh, sigmoid, …")
    if kind == "PReLU" and value_type(activation.PReLU.alpha) == UNSPECIFIED:
        return WEIGHT_PRECISION, (f"{_label(layer)}: PReLU alpha fills several value fields; keep exactly one")
    if kind == "parametricSoftplus":
        alpha = value_type(activation.parametricSoftplus.alpha)
        beta = value_type(activation.parametricSoftplus.beta)
        if alpha != beta or UNSPECIFIED in (alpha, beta):
            return WEIGHT_PRECISION, (f"{_label(layer)}: parametricSoftplus alpha and beta have inconsistent "
                                      "storage; store both the same way (both fp32 or both fp16)")
    return None


def _recurrent_activation_problem(layer, activation) -> Problem | None:
    kind = activation.WhichOneof("NonlinearityType")
    if kind in _RECURRENT_ACTIVATIONS:
        return None
    return UNSUPPORTED_LAYER, (f"{_label(layer)}: recurrent activation {kind or 'unset'} is not supported; use "
                               "linear, sigmoid, tanh, scaledTanh, sigmoidHard or ReLU")


@dataclass
class LayerProblem:
    layer: object  # the NeuralNetworkLayer proto (possibly inside a branch or loop)
    rule: Rule
    message: str


@dataclass
class NetworkWalker:
    """NeuralNetworkSpecValidator: walks a layer list, tracking which blobs exist and, in N-D mode, their ranks.

    ``blobs`` maps each blob name to the names of the layers that produce it (model inputs:
    ``MODEL_INPUT_PRODUCER``); it grows as layers are walked, so after ``walk`` it holds every blob.
    """

    blobs: dict[str, set[str]]
    io_ranks: dict[str, int]
    nd_array: bool
    loop_depth: int = 0
    ranks: dict[str, int] = field(default_factory=dict)

    def child(self, loop_depth: int | None = None) -> "NetworkWalker":
        return NetworkWalker({name: set(producers) for name, producers in self.blobs.items()}, self.io_ranks,
                             self.nd_array, self.loop_depth if loop_depth is None else loop_depth, dict(self.ranks))

    def walk(self, layers) -> list[LayerProblem]:
        problems: list[LayerProblem] = []
        for layer in layers:
            own = self._tensor_problem(layer) if self.nd_array else None
            if own is not None:
                problems.append(LayerProblem(layer, *own))
            else:
                problems += self._layer_problems(layer)
            for blob in layer.input:
                if blob not in self.blobs:
                    problems.append(LayerProblem(layer, MISSING_INPUT_BLOB, (
                        f"{_label(layer)} reads blob '{blob}', which no model input or earlier layer produces; "
                        "rename the input to an existing blob or add/move its producer before this layer")))
            for blob in layer.output:
                if blob in self.blobs and layer.WhichOneof("layer") != "copy":
                    producer = min(self.blobs[blob])
                    source = "a model input" if producer == MODEL_INPUT_PRODUCER else f"layer '{producer}'"
                    problems.append(LayerProblem(layer, DUPLICATE_OUTPUT_BLOB, (
                        f"{_label(layer)} writes blob '{blob}', which {source} already produces; give the output "
                        "a new name and update its readers")))
                self.blobs.setdefault(blob, set()).add(layer.name)
        return problems

    # -- per-layer -----------------------------------------------------------------------------------------

    def _tensor_problem(self, layer) -> Problem | None:
        for role, blobs, tensors in (("input", layer.input, layer.inputTensor),
                                     ("output", layer.output, layer.outputTensor)):
            if not len(tensors):
                continue
            if len(blobs) != len(tensors):
                return LAYER_TENSORS, (f"{_label(layer)} has {len(blobs)} {role}s but {len(tensors)} {role}Tensor "
                                       f"entries; give one {role}Tensor per {role} or none")
            for blob, tensor in zip(blobs, tensors):
                rank = int32(tensor.rank)
                if len(tensor.dimValue):
                    if rank != len(tensor.dimValue):
                        return LAYER_TENSORS, (f"{_label(layer)}: a tensor's rank {rank} does not match the length "
                                               f"of its dimValue ({len(tensor.dimValue)}); make them agree")
                    if rank < 1:
                        return LAYER_TENSORS, f"{_label(layer)}: a tensor's rank must be positive"
                if blob in self.io_ranks and rank != self.io_ranks[blob]:
                    side = "an input to" if role == "input" else "an output of"
                    return LAYER_TENSORS, (f"{_label(layer)}: {role} '{blob}' is {side} the model with rank "
                                           f"{self.io_ranks[blob]}, but the layer declares rank {rank}; make them "
                                           "agree")
                known = self.ranks.setdefault(blob, rank)
                if known != rank:
                    return LAYER_TENSORS, (f"{_label(layer)}: inconsistent rank for blob '{blob}' ({rank} here, "
                                           f"{known} elsewhere); declare the same rank everywhere")
        return None

    def _layer_problems(self, layer) -> list[LayerProblem]:
        kind = layer.WhichOneof("layer")
        if kind in ("branch", "loop"):
            return getattr(self, f"_{kind}_problems")(layer)
        check = _LAYER_CHECKS.get(kind)
        if check is None:
            problem = (UNSUPPORTED_LAYER, f"layer '{layer.name}' has no (or an unknown) layer type; set one of the "
                                          "NeuralNetworkLayer types")
        else:
            problem = check(self, layer)
        return [LayerProblem(layer, *problem)] if problem is not None else []

    def rank_of(self, blob: str) -> int | None:
        return self.ranks.get(blob)

    def rank_count(self, layer, type_name: str, low: int, high: int) -> Problem | None:
        """validateRankCount: the first input's and first output's known ranks."""
        for role, blob in (("input", layer.input[0]), ("output", layer.output[0])):
            rank = self.rank_of(blob)
            if rank is not None:
                problem = _rank_problem(layer, type_name, low, high, role, rank)
                if problem:
                    return problem
        return None

    def rank_equality(self, layer, type_name: str) -> Problem | None:
        """validateInputOutputRankEquality."""
        input_rank, output_rank = self.rank_of(layer.input[0]), self.rank_of(layer.output[0])
        if input_rank is not None and output_rank is not None and input_rank != output_rank:
            return LAYER_RANK, (f"{_label(layer)}: {type_name} expects equal input and output ranks, but they are "
                                f"{input_rank} and {output_rank}; fix the declared ranks")
        return None

    def equal_ranks(self, layer, blobs, type_name: str, role: str) -> Problem | None:
        """All known ranks among ``blobs`` equal the first blob's (concat, split, crop, dot, cropResize)."""
        first = self.rank_of(blobs[0])
        if first is None:
            return None
        if any(self.rank_of(blob) not in (None, first) for blob in blobs):
            return LAYER_RANK, (f"{_label(layer)}: {type_name} expects equal ranks for its {role}s, but they "
                                "differ; fix the declared ranks")
        return None

    def nd_ranks(self, layer, type_name: str, low: int, high: int) -> Problem | None:
        """The common N-D pair: equal input/output ranks, then the rank range."""
        if not self.nd_array:
            return None
        return self.rank_equality(layer, type_name) or self.rank_count(layer, type_name, low, high)

    # -- control flow ---------------------------------------------------------------------------------------

    def _branch_problems(self, layer) -> list[LayerProblem]:
        def single(message: str) -> list[LayerProblem]:
            return [LayerProblem(layer, CONTROL_FLOW, message)]

        problem = _count_problem(layer, "input", len(layer.input), 1, 1)
        if problem:
            return [LayerProblem(layer, *problem)]
        if len(layer.inputTensor) and any(size > 1 for size in layer.inputTensor[0].dimValue):
            return single(f"{_label(layer)}: the condition input must hold a single value (its length cannot be "
                          "more than 1)")
        condition = layer.input[0]
        if condition not in self.blobs:
            return single(f"{_label(layer)} needs condition blob '{condition}', which is not produced before this "
                          "layer; produce it earlier")
        params = layer.branch
        if not len(params.ifBranch.layers):
            return single(f"{_label(layer)} has an empty if-branch; add its layers")
        if_walker = self.child()
        problems = if_walker.walk(params.ifBranch.layers)
        if len(params.elseBranch.layers):
            else_walker = self.child()
            problems += else_walker.walk(params.elseBranch.layers)
            # Only blobs produced on both branches exist after the branch.
            for blob, producers in if_walker.blobs.items():
                if blob in else_walker.blobs:
                    self.blobs.setdefault(blob, set()).update(producers, else_walker.blobs[blob])
        return problems

    def _loop_problems(self, layer) -> list[LayerProblem]:
        def single(message: str) -> list[LayerProblem]:
            return [LayerProblem(layer, CONTROL_FLOW, message)]

        problem = _count_problem(layer, "input", len(layer.input), 0, 1)
        if problem:
            return [LayerProblem(layer, *problem)]
        if len(layer.inputTensor) and any(size > 1 for size in layer.inputTensor[0].dimValue):
            return single(f"{_label(layer)}: the iteration-count input must hold a single value (its length cannot "
                          "be more than 1)")
        params = layer.loop
        has_condition_network = len(params.conditionNetwork.layers) > 0
        condition = params.conditionVar
        if not len(params.bodyNetwork.layers):
            return single(f"{_label(layer)} has an empty body network; add its layers")
        if bool(condition) != has_condition_network:
            return single(f"{_label(layer)}: conditionVar must be set exactly when there is a condition network; "
                          "set both or neither")
        if not has_condition_network and params.maxLoopIterations == 0 and not len(layer.input):
            return single(f"{_label(layer)} has no input, no condition network and maxLoopIterations 0, so it "
                          "cannot run; set maxLoopIterations or add a condition")
        problems: list[LayerProblem] = []
        condition_walker = self.child()
        if has_condition_network:
            problems += condition_walker.walk(params.conditionNetwork.layers)
            produced_here = (condition in condition_walker.blobs if condition not in self.blobs
                             else self.blobs[condition] != condition_walker.blobs.get(condition))
            if not produced_here:
                problems.append(LayerProblem(layer, CONTROL_FLOW, (
                    f"{_label(layer)}: conditionVar '{condition}' is not produced by the condition network; make "
                    "the condition network write it")))
            for blob, producers in condition_walker.blobs.items():
                self.blobs.setdefault(blob, set()).update(producers)
        body_walker = self.child(loop_depth=self.loop_depth + 1)
        problems += body_walker.walk(params.bodyNetwork.layers)
        if not has_condition_network:
            for blob, producers in body_walker.blobs.items():
                self.blobs.setdefault(blob, set()).update(producers)
        else:
            for blob in condition_walker.blobs:
                if blob in body_walker.blobs:
                    self.blobs.setdefault(blob, set()).update(body_walker.blobs[blob])
        return problems


# -- the per-type checks ----------------------------------------------------------------------------------------
# Each takes (walker, layer) and returns the first Problem, like the upstream validate<Type>Layer function.


def _counts(layer, inputs: tuple[int, int], outputs: tuple[int, int]) -> Problem | None:
    return (_count_problem(layer, "input", len(layer.input), *inputs)
            or _count_problem(layer, "output", len(layer.output), *outputs))


def _counts_only(inputs: tuple[int, int], outputs: tuple[int, int] = (1, 1)):
    return lambda walker, layer: _counts(layer, inputs, outputs)


def _counts_and_ranks(type_name: str, low: int, high: int, inputs=(1, 1), outputs=(1, 1), params=None):
    """Counts, then (N-D only) equal input/output ranks and a rank range, then an optional parameter check."""
    def check(walker, layer):
        return (_counts(layer, inputs, outputs) or walker.nd_ranks(layer, type_name, low, high)
                or (params(walker, layer) if params else None))
    return check


def _convolution(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 2), (1, 1)):
        return problem
    if walker.nd_array:
        if problem := walker.nd_ranks(layer, "Convolution", 4, -1):
            return problem
    elif len(layer.input) != 1:
        return LAYER_PARAMETERS, (f"{_label(layer)}: weights as a second input tensor are not supported with "
                                  "RANK5_ARRAY_MAPPING; use EXACT_ARRAY_MAPPING or static weights")
    params = layer.convolution
    if params.WhichOneof("ConvolutionPaddingType") is None:
        return LAYER_PARAMETERS, f"{_label(layer)}: padding type is not set; set convolution.valid or convolution.same"
    deconvolution = params.isDeconvolution
    dynamic_weights = len(layer.input) != 1
    if deconvolution and dynamic_weights:
        return LAYER_PARAMETERS, f"{_label(layer)}: deconvolution does not support weights as an input tensor"
    dilation = list(params.dilationFactor)
    if dynamic_weights and ((len(dilation) > 0 and dilation[0] > 1) or (len(dilation) > 1 and dilation[1] > 1)):
        return LAYER_PARAMETERS, f"{_label(layer)}: dilated convolution does not support weights as an input tensor"
    if dynamic_weights:
        return None
    groups = params.nGroups or 1
    kernel = list(params.kernelSize)
    kernel_height = kernel[0] if len(kernel) > 0 else 3
    kernel_width = kernel[1] if len(kernel) > 1 else 3
    weights_kind, bias_kind = value_type(params.weights), value_type(params.bias)
    if weights_kind == UNSPECIFIED or (params.hasBias and bias_kind == UNSPECIFIED):
        return WEIGHT_PRECISION, (f"{_label(layer)}: weights or bias fill several value fields; keep exactly one "
                                  "of floatValue, float16Value, rawValue")
    if params.hasBias and _mixed_precision(weights_kind, bias_kind):
        return _precision_problem(_label(layer), f"weights ({weights_kind}) and bias ({bias_kind})")
    out_channels, kernel_channels = params.outputChannels, params.kernelChannels
    if deconvolution:
        dims = (kernel_channels, out_channels // groups, kernel_height, kernel_width)
    else:
        dims = (out_channels, kernel_channels, kernel_height, kernel_width)
    expected = uint64_product(*dims)
    if weights_kind in (FLOAT32, FLOAT16):
        size = _float_count(params.weights, weights_kind)
        if size != expected:
            names = ("kernelChannels × outputChannels/nGroups" if deconvolution
                     else "outputChannels × kernelChannels")
            return WEIGHT_COUNT, (f"{_label(layer)}: weights hold {size} values but a "
                                  f"{' × '.join(str(d) for d in dims)} {'de' if deconvolution else ''}convolution "
                                  f"({names} × kernelHeight × kernelWidth) needs {expected}; resize the weights or "
                                  "fix outputChannels/kernelChannels/kernelSize")
    elif weights_kind == QUINT:
        if problem := general_weights_problem(params.weights, expected, out_channels, _label(layer), "weights"):
            return problem
    else:
        return WEIGHTS_MISSING, (f"{_label(layer)}: weights are not specified (no fp32, fp16 or quantized values); "
                                 f"fill them with {expected} values")
    if not params.hasBias:
        return None
    if bias_kind in (FLOAT32, FLOAT16):
        size = _float_count(params.bias, bias_kind)
        if size != out_channels:
            return WEIGHT_COUNT, (f"{_label(layer)}: bias has {size} values but outputChannels is {out_channels}; "
                                  "resize the bias or clear hasBias")
        return None
    if bias_kind == QUINT:
        return general_weights_problem(params.bias, out_channels, 1, _label(layer), "bias")
    return WEIGHTS_MISSING, (f"{_label(layer)}: hasBias is set but the bias is not specified; fill it with "
                             f"{out_channels} values or clear hasBias")


def _positive(layer, value: int, what: str) -> Problem | None:
    if value <= 0:
        return LAYER_PARAMETERS, f"{_label(layer)}: {what} must be positive, got {value}"
    return None


def _convolution3d(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "Convolution3D", 5, -1):
        return problem
    params = layer.convolution3d
    checks = (("inputChannels", params.inputChannels), ("outputChannels", params.outputChannels),
              ("nGroups", params.nGroups), ("kernelDepth", params.kernelDepth),
              ("kernelHeight", params.kernelHeight), ("kernelWidth", params.kernelWidth),
              ("strideDepth", params.strideDepth), ("strideHeight", params.strideHeight),
              ("strideWidth", params.strideWidth), ("dilationDepth", params.dilationDepth),
              ("dilationHeight", params.dilationHeight), ("dilationWidth", params.dilationWidth))
    for what, value in checks:
        if problem := _positive(layer, value, what):
            return problem
    for side in ("Front", "Back", "Top", "Bottom", "Left", "Right"):
        value = getattr(params, f"customPadding{side}")
        if value < 0:
            return LAYER_PARAMETERS, f"{_label(layer)}: customPadding{side} must be non-negative, got {value}"
    weights_kind, bias_kind = value_type(params.weights), value_type(params.bias)
    if weights_kind == UNSPECIFIED or (params.hasBias and bias_kind == UNSPECIFIED):
        return WEIGHT_PRECISION, f"{_label(layer)}: weights or bias fill several value fields; keep exactly one"
    if params.hasBias and _mixed_precision(weights_kind, bias_kind):
        return _precision_problem(_label(layer), f"weights ({weights_kind}) and bias ({bias_kind})")
    if len(params.outputShape):
        if not params.isDeconvolution:
            return LAYER_PARAMETERS, f"{_label(layer)}: outputShape is only supported for deconvolution; clear it"
        if len(params.outputShape) != 3:
            return LAYER_PARAMETERS, f"{_label(layer)}: outputShape, if set, must have 3 values"
    if weights_kind == QUINT:
        return QUANTIZATION, f"{_label(layer)}: quantized weights are not supported for convolution3d"
    groups, inputs, outputs = params.nGroups, params.inputChannels, params.outputChannels
    depth, height, width = params.kernelDepth, params.kernelHeight, params.kernelWidth
    if params.isDeconvolution:
        expected = int32((c_div(outputs, groups)) * inputs * depth * height * width) & UINT64_MASK
    else:
        expected = int32(outputs * c_div(inputs, groups) * depth * height * width) & UINT64_MASK
    if problem := general_weights_problem(params.weights, expected, outputs, _label(layer), "weights"):
        return problem
    if not params.hasBias:
        return None
    if bias_kind in (FLOAT32, FLOAT16):
        size = _float_count(params.bias, bias_kind)
        if size != outputs:
            return WEIGHT_COUNT, (f"{_label(layer)}: bias has {size} values but outputChannels is {outputs}; resize "
                                  "the bias")
        return None
    if bias_kind == QUINT:
        return QUANTIZATION, f"{_label(layer)}: a quantized bias is not supported for convolution3d"
    return WEIGHTS_MISSING, f"{_label(layer)}: hasBias is set but the bias is not specified"


def _int8_dynamic_problem(layer, weights) -> Problem | None:
    """validateInt8Requirements."""
    where = f"{_label(layer)} (int8DynamicQuantize)"
    if value_type(weights) != QINT:
        return QUANTIZATION, f"{where}: weights must be stored as int8RawValue with quantization parameters"
    quantization = weights.quantization
    if quantization.numberOfBits != 8:
        return QUANTIZATION, f"{where}: numberOfBits must be 8, got {quantization.numberOfBits}"
    if not quantization.HasField("linearQuantization"):
        return QUANTIZATION, f"{where}: linear quantization must be used"
    if len(quantization.linearQuantization.scale) != 1:
        return QUANTIZATION, f"{where}: linear quantization must have exactly one scale"
    if len(quantization.linearQuantization.bias):
        return QUANTIZATION, f"{where}: linear quantization bias must be empty"
    return None


def _matrix_weights_problem(layer, params, inputs: int, outputs: int, names: str) -> Problem | None:
    """validateInnerProductWeightsBias (innerProduct and batchedMatmul)."""
    weights_kind, bias_kind = value_type(params.weights), value_type(params.bias)
    if weights_kind == UNSPECIFIED or (params.hasBias and bias_kind == UNSPECIFIED):
        return WEIGHT_PRECISION, (f"{_label(layer)}: weights or bias fill several value fields; keep exactly one "
                                  "of floatValue, float16Value, rawValue, int8RawValue")
    if params.hasBias and _mixed_precision(weights_kind, bias_kind):
        return _precision_problem(_label(layer), f"weights ({weights_kind}) and bias ({bias_kind})")
    expected = uint64_product(inputs, outputs)
    if weights_kind in (FLOAT32, FLOAT16):
        size = _float_count(params.weights, weights_kind)
        if size != expected:
            return WEIGHT_COUNT, (f"{_label(layer)}: weights hold {size} values but a {inputs} × {outputs} matrix "
                                  f"({names}) needs {expected}; resize the weights or fix {names}")
    elif weights_kind == QUINT:
        if problem := general_weights_problem(params.weights, expected, outputs, _label(layer), "weights"):
            return problem
    if params.hasBias:
        if bias_kind in (FLOAT32, FLOAT16):
            size = _float_count(params.bias, bias_kind)
            if size != outputs:
                return WEIGHT_COUNT, (f"{_label(layer)}: bias has {size} values but the layer has {outputs} "
                                      "outputs; resize the bias or clear hasBias")
        elif bias_kind == QUINT:
            return general_weights_problem(params.bias, outputs, 1, _label(layer), "bias")
    return None


def _inner_product(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "InnerProduct", 1, 5):
        return problem
    params = layer.innerProduct
    if params.int8DynamicQuantize and (problem := _int8_dynamic_problem(layer, params.weights)):
        return problem
    return _matrix_weights_problem(layer, params, params.inputChannels, params.outputChannels,
                                   "inputChannels × outputChannels")


def _batched_matmul(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 2), (1, 1)):
        return problem
    params = layer.batchedMatmul
    inputs, in_tensors, out_tensors = len(layer.input), layer.inputTensor, layer.outputTensor
    if inputs == 2 and len(in_tensors) == 2 and len(out_tensors) == 1:
        first, second, out = (int32(t.rank) for t in (in_tensors[0], in_tensors[1], out_tensors[0]))
        if out != max(2, first, second):
            return LAYER_RANK, (f"{_label(layer)}: output rank {out} is wrong for input ranks {first} and {second} "
                                f"(expected {max(2, first, second)})")
    if inputs == 1 and len(in_tensors) == 1 and len(out_tensors) == 1:
        if int32(out_tensors[0].rank) != int32(in_tensors[0].rank):
            return LAYER_RANK, f"{_label(layer)}: with one input, the output rank must equal the input rank"
    if inputs > 1 and params.hasBias:
        return LAYER_PARAMETERS, f"{_label(layer)}: hasBias is only supported with one input; clear hasBias"
    if inputs > 1 and params.int8DynamicQuantize:
        return QUANTIZATION, f"{_label(layer)}: int8DynamicQuantize cannot be used with two inputs"
    if params.int8DynamicQuantize and (problem := _int8_dynamic_problem(layer, params.weights)):
        return problem
    if inputs == 1:
        return _matrix_weights_problem(layer, params, params.weightMatrixFirstDimension,
                                       params.weightMatrixSecondDimension,
                                       "weightMatrixFirstDimension × weightMatrixSecondDimension")
    return None


def _batchnorm(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "Batchnorm", 3, -1):
        return problem
    params = layer.batchnorm
    kinds = [value_type(params.gamma), value_type(params.beta), value_type(params.mean), value_type(params.variance)]
    if _mixed_precision(*kinds) or UNSPECIFIED in kinds:
        return WEIGHT_PRECISION, (f"{_label(layer)}: gamma/beta/mean/variance mix half and full precision (or "
                                  "fill several value fields); store them all as fp32 or all as fp16")
    channels = params.channels
    for what in ("gamma", "beta"):
        if problem := general_weights_problem(getattr(params, what), channels, 1, _label(layer), what):
            return problem
    if not params.computeMeanVar:
        # Upstream tests mean twice (not variance) here; an empty variance fails in the size check below.
        if kinds[2] == EMPTY:
            return WEIGHTS_MISSING, (f"{_label(layer)}: mean and variance are missing; fill them with {channels} "
                                     "values each or set computeMeanVar")
        for what in ("mean", "variance"):
            if problem := general_weights_problem(getattr(params, what), channels, 1, _label(layer), what):
                return problem
    return None


def _activation(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    kind = layer.activation.WhichOneof("NonlinearityType")
    if walker.nd_array and kind in ("PReLU", "parametricSoftplus"):
        name = "ActivationPReLU" if kind == "PReLU" else "ActivationParametricSoftplus"
        if problem := walker.rank_equality(layer, name) or walker.rank_count(layer, name, 3, -1):
            return problem
    return activation_problem(layer, layer.activation)


def _pooling_params(walker, layer) -> Problem | None:
    if layer.pooling.WhichOneof("PoolingPaddingType") is None:
        return LAYER_PARAMETERS, (f"{_label(layer)}: padding type is not set; set pooling.valid, same or "
                                  "includeLastPixel")
    return None


def _pooling3d_params(walker, layer) -> Problem | None:
    params = layer.pooling3d
    for what, value in (("kernelDepth", params.kernelDepth), ("kernelHeight", params.kernelHeight),
                        ("kernelWidth", params.kernelWidth), ("strideDepth", params.strideDepth),
                        ("strideHeight", params.strideHeight), ("strideWidth", params.strideWidth)):
        if problem := _positive(layer, value, what):
            return problem
    custom = params.paddingType == nn_pb2().Pooling3DLayerParams.CUSTOM
    for side in ("Front", "Back", "Top", "Bottom", "Left", "Right"):
        value = getattr(params, f"customPadding{side}")
        if custom and value < 0:
            return LAYER_PARAMETERS, f"{_label(layer)}: customPadding{side} must be non-negative, got {value}"
        if not custom and value != 0:
            return LAYER_PARAMETERS, (f"{_label(layer)}: customPadding{side} is {value} but padding type is not "
                                      "CUSTOM; clear it or use CUSTOM padding")
    return None


def _padding_params(walker, layer) -> Problem | None:
    params = layer.padding
    amounts = len(params.paddingAmounts.borderAmounts)
    if amounts not in (0, 2):
        return LAYER_PARAMETERS, (f"{_label(layer)}: {amounts} padding amounts given; give 2 (for y and x) or 0 "
                                  "for the defaults")
    if params.WhichOneof("PaddingType") is None:
        return LAYER_PARAMETERS, f"{_label(layer)}: padding type is not set; set constant, reflection or replication"
    return None


def _lrn_params(walker, layer) -> Problem | None:
    if layer.lrn.k < 0.0:
        return LAYER_PARAMETERS, f"{_label(layer)}: parameter k must be positive, got {layer.lrn.k}"
    return None


def _split(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (2, -1)):
        return problem
    if walker.nd_array:
        return walker.nd_ranks(layer, "Split", 3, -1) or walker.equal_ranks(layer, layer.output, "Split", "output")
    return None


def _upsample_params(walker, layer) -> Problem | None:
    params = layer.upsample
    upsample = nn_pb2().UpsampleLayerParams
    scaling, fractional = len(params.scalingFactor), len(params.fractionalScalingFactor)
    valid = fractional in (0, 2) if scaling == 0 else (fractional == 0 and scaling == 2)
    if not valid:
        return LAYER_PARAMETERS, (f"{_label(layer)}: set either scalingFactor or fractionalScalingFactor, with 2 "
                                  f"values (found {scaling} and {fractional})")
    if fractional == 2 and (params.mode == upsample.NN or params.linearUpsampleMode == upsample.DEFAULT):
        return LAYER_PARAMETERS, (f"{_label(layer)}: fractional upsampling needs BILINEAR mode with "
                                  "linearUpsampleMode ALIGN_CORNERS_TRUE or ALIGN_CORNERS_FALSE")
    if params.linearUpsampleMode != upsample.DEFAULT and params.mode == upsample.NN:
        return LAYER_PARAMETERS, (f"{_label(layer)}: nearest-neighbour upsampling cannot use a linearUpsampleMode "
                                  "other than DEFAULT")
    return None


def _shaped_constant_problem(layer, weights, shape, what: str) -> Problem | None:
    """The shape-product size check shared by bias, scale and loadConstant ([C] / [1,H,W] / [C,H,W])."""
    total = uint64_product(*shape)
    out_channels = shape[0] if len(shape) == 3 and shape[0] > 1 else 1
    return general_weights_problem(weights, total, out_channels, _label(layer), f"{what} (shape {list(shape)})")


def _bias_params(walker, layer) -> Problem | None:
    params = layer.bias
    if value_type(params.bias) == UNSPECIFIED:
        return WEIGHT_PRECISION, f"{_label(layer)}: bias fills several value fields; keep exactly one"
    if len(params.shape) not in (1, 3):
        return LAYER_PARAMETERS, f"{_label(layer)}: shape has {len(params.shape)} dimensions; it must be 1-D or 3-D"
    return _shaped_constant_problem(layer, params.bias, list(params.shape), "bias")


def _reshape_params(walker, layer) -> Problem | None:
    if len(layer.reshape.targetShape) not in (3, 4):
        return LAYER_PARAMETERS, f"{_label(layer)}: targetShape must have 3 or 4 values"
    return None


def _permute_params(walker, layer) -> Problem | None:
    if len(layer.permute.axis) != 4:
        return LAYER_PARAMETERS, f"{_label(layer)}: axis must have 4 values"
    return None


_INT32_SENTINELS = (-(1 << 31), (1 << 31) - 1)


def _reduce(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    if walker.nd_array and len(layer.inputTensor):
        if problem := walker.rank_equality(layer, "Reduce"):
            return problem
        rank = int32(layer.inputTensor[0].rank)
        reduce = nn_pb2().ReduceLayerParams
        axis = layer.reduce.axis
        if axis in _INT32_SENTINELS:
            return LAYER_PARAMETERS, f"{_label(layer)}: unknown value {axis} for axis"
        needed = {reduce.CHW: 3, reduce.HW: 2, reduce.H: 1, reduce.W: 1, reduce.C: 1}.get(axis, 0)
        if rank < needed:
            return LAYER_RANK, f"{_label(layer)}: input rank {rank} is smaller than the axes the reduction covers"
    return None


def _reorganize_params(walker, layer) -> Problem | None:
    if int32(layer.reorganizeData.blockSize) < 2:
        return LAYER_PARAMETERS, f"{_label(layer)}: blockSize must be greater than 1"
    return None


def _slice(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    params = layer.slice
    if walker.nd_array and len(layer.inputTensor):
        if problem := walker.rank_equality(layer, "Slice"):
            return problem
        rank = int32(layer.inputTensor[0].rank)
        axes = nn_pb2().SliceLayerParams
        needed = {axes.CHANNEL_AXIS: 3, axes.HEIGHT_AXIS: 2, axes.WIDTH_AXIS: 1}.get(params.axis)
        if needed is None:
            return LAYER_PARAMETERS, f"{_label(layer)}: unknown value {params.axis} for axis"
        if rank < needed:
            return LAYER_RANK, f"{_label(layer)}: input rank {rank} is smaller than the sliced axis needs"
    if int32(params.stride) < 1:
        return LAYER_PARAMETERS, f"{_label(layer)}: stride must be at least 1"
    start, end = params.startIndex, params.endIndex
    if (end > 0 and end < start) or (end < 0 and start < 0 and start > end):
        return LAYER_PARAMETERS, f"{_label(layer)}: endIndex {end} is before startIndex {start}"
    return None


def _load_constant(walker, layer) -> Problem | None:
    if problem := _counts(layer, (0, 0), (1, 1)):
        return problem
    if walker.nd_array:
        rank = walker.rank_of(layer.output[0])
        if rank is not None and (problem := _rank_problem(layer, "LoadConstant", 5, 5, "output", rank)):
            return problem
    params = layer.loadConstant
    if value_type(params.data) == UNSPECIFIED:
        return WEIGHT_PRECISION, f"{_label(layer)}: data fills several value fields; keep exactly one"
    if len(params.shape) != 3:
        return LAYER_PARAMETERS, f"{_label(layer)}: shape must have 3 values (a 3-D constant)"
    return _shaped_constant_problem(layer, params.data, list(params.shape), "constants")


def _scale(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "Scale", 3, -1):
        return problem
    params = layer.scale
    scale_kind, bias_kind = value_type(params.scale), value_type(params.bias)
    if scale_kind == UNSPECIFIED or (params.hasBias and bias_kind == UNSPECIFIED):
        return WEIGHT_PRECISION, f"{_label(layer)}: scale or bias fill several value fields; keep exactly one"
    if params.hasBias and _mixed_precision(scale_kind, bias_kind):
        return _precision_problem(_label(layer), f"scale ({scale_kind}) and bias ({bias_kind})")
    if len(params.shapeScale) not in (1, 3):
        return LAYER_PARAMETERS, f"{_label(layer)}: shapeScale has {len(params.shapeScale)} dimensions; use 1 or 3"
    if problem := _shaped_constant_problem(layer, params.scale, list(params.shapeScale), "scale"):
        return problem
    if params.hasBias:
        if len(params.shapeBias) not in (1, 3):
            return LAYER_PARAMETERS, f"{_label(layer)}: shapeBias has {len(params.shapeBias)} dimensions; use 1 or 3"
        return _shaped_constant_problem(layer, params.bias, list(params.shapeBias), "bias")
    return None


def _simple_recurrent(walker, layer) -> Problem | None:
    if problem := _counts(layer, (2, 2), (2, 2)) or walker.nd_ranks(layer, "SimpleRecurrent", 5, 5):
        return problem
    params = layer.simpleRecurrent
    weights, recursion = value_type(params.weightMatrix), value_type(params.recursionMatrix)
    bias = value_type(params.biasVector)
    if UNSPECIFIED in (weights, recursion) or (params.hasBiasVector and bias == UNSPECIFIED):
        return WEIGHT_PRECISION, f"{_label(layer)}: a weight/recursion/bias field fills several value fields"
    if weights != QUINT and recursion != QUINT:
        if weights != recursion or (params.hasBiasVector and bias != QUINT and weights != bias):
            return WEIGHT_PRECISION, (f"{_label(layer)}: weightMatrix, recursionMatrix and biasVector must use the "
                                      "same precision (all fp32 or all fp16)")
    inputs, outputs = params.inputVectorSize, params.outputVectorSize
    checks = ((params.weightMatrix, uint64_product(inputs, outputs), outputs, "weightMatrix"),
              (params.recursionMatrix, uint64_product(outputs, outputs), outputs, "recursionMatrix"))
    if params.hasBiasVector:
        checks += ((params.biasVector, outputs, 1, "biasVector"),)
    for weights_message, expected, channels, what in checks:
        if problem := general_weights_problem(weights_message, expected, channels, _label(layer), what):
            return problem
    return _recurrent_activation_problem(layer, params.activation)


def _gru(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 2), (2, 2)) or walker.nd_ranks(layer, "GRU", 5, 5):
        return problem
    params = layer.gru
    matrices = ("updateGateWeightMatrix", "updateGateRecursionMatrix", "resetGateWeightMatrix",
                "resetGateRecursionMatrix", "outputGateWeightMatrix", "outputGateRecursionMatrix")
    biases = ("updateGateBiasVector", "resetGateBiasVector", "outputGateBiasVector")
    used = matrices + (biases if params.hasBiasVectors else ())
    if _mixed_precision(*(value_type(getattr(params, name)) for name in used)):
        return _precision_problem(_label(layer), "weight/recursion matrices and biases")
    inputs, outputs = params.inputVectorSize, params.outputVectorSize
    checks = [(name, uint64_product(inputs, outputs), outputs) for name in matrices[0::2]]
    checks += [(name, uint64_product(outputs, outputs), outputs) for name in matrices[1::2]]
    if params.hasBiasVectors:
        checks += [(name, outputs, 1) for name in biases]
    for name, expected, channels in checks:
        if problem := general_weights_problem(getattr(params, name), expected, channels, _label(layer), name):
            return problem
    for activation in params.activations:
        if problem := _recurrent_activation_problem(layer, activation):
            return problem
    return None


_LSTM_MATRICES = ("inputGateWeightMatrix", "forgetGateWeightMatrix", "blockInputWeightMatrix",
                  "outputGateWeightMatrix")
_LSTM_RECURSIONS = ("inputGateRecursionMatrix", "forgetGateRecursionMatrix", "blockInputRecursionMatrix",
                    "outputGateRecursionMatrix")
_LSTM_BIASES = ("inputGateBiasVector", "forgetGateBiasVector", "blockInputBiasVector", "outputGateBiasVector")
_LSTM_PEEPHOLES = ("inputGatePeepholeVector", "forgetGatePeepholeVector", "outputGatePeepholeVector")


def _lstm_fields(lstm_params) -> tuple[str, ...]:
    fields = _LSTM_MATRICES + _LSTM_RECURSIONS
    if lstm_params.hasBiasVectors:
        fields += _LSTM_BIASES
    if lstm_params.hasPeepholeVectors:
        fields += _LSTM_PEEPHOLES
    return fields


def _lstm_precision_problem(layer, weight_params, lstm_params) -> Problem | None:
    """validateLSTMWeightParams."""
    kinds = [value_type(getattr(weight_params, name)) for name in _lstm_fields(lstm_params)]
    if _mixed_precision(*kinds):
        return _precision_problem(_label(layer), "LSTM weight parameters")
    return None


def _lstm_weight_problem(layer, weight_params, name: str, inputs: int, outputs: int, prefix: str = ""):
    """The size check of one LSTM weight field: [out, in] matrices, [out, out] recursions, [out] vectors."""
    if name in _LSTM_MATRICES:
        expected, channels = uint64_product(outputs, inputs), outputs
    elif name in _LSTM_RECURSIONS:
        expected, channels = uint64_product(outputs, outputs), outputs
    else:
        expected, channels = outputs, 1
    return general_weights_problem(getattr(weight_params, name), expected, channels, _label(layer),
                                   f"{prefix}{name}")


def _lstm_size_problems(layer, weight_params, lstm_params, inputs: int, outputs: int, prefix: str = ""):
    for name in _lstm_fields(lstm_params):
        if problem := _lstm_weight_problem(layer, weight_params, name, inputs, outputs, prefix):
            return problem
    return None


def _unidirectional_lstm(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 3), (3, 3)) or walker.nd_ranks(layer, "UniDirectionalLSTM", 5, 5):
        return problem
    params = layer.uniDirectionalLSTM
    for activation in params.activations:
        if problem := _recurrent_activation_problem(layer, activation):
            return problem
    if problem := _lstm_precision_problem(layer, params.weightParams, params.params):
        return problem
    if len(params.activations) != 3:
        return LAYER_PARAMETERS, f"{_label(layer)}: must provide 3 activations, found {len(params.activations)}"
    return _lstm_size_problems(layer, params.weightParams, params.params, params.inputVectorSize,
                               params.outputVectorSize)


def _bidirectional_lstm(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 5), (5, 5)) or walker.nd_ranks(layer, "BiDirectionalLSTM", 5, 5):
        return problem
    params = layer.biDirectionalLSTM
    for activation in list(params.activationsForwardLSTM) + list(params.activationsBackwardLSTM):
        if problem := _recurrent_activation_problem(layer, activation):
            return problem
    # Upstream checks precision on the (unset) uniDirectionalLSTM field here, which always passes.
    for direction, activations in (("forward", params.activationsForwardLSTM),
                                   ("backward", params.activationsBackwardLSTM)):
        if len(activations) != 3:
            return LAYER_PARAMETERS, f"{_label(layer)}: the {direction} LSTM must provide 3 activations"
    empty = nn_pb2().LSTMWeightParams()
    forward = params.weightParams[0] if len(params.weightParams) > 0 else empty
    backward = params.weightParams[1] if len(params.weightParams) > 1 else empty
    inputs, outputs = params.inputVectorSize, params.outputVectorSize
    lstm = params.params
    # Upstream order: forward matrices, forward recursions, backward matrices, backward recursions, then biases
    # (forward, backward), then peepholes (forward, backward).
    groups = [(forward, "forward ", _LSTM_MATRICES + _LSTM_RECURSIONS),
              (backward, "backward ", _LSTM_MATRICES + _LSTM_RECURSIONS)]
    if lstm.hasBiasVectors:
        groups += [(forward, "forward ", _LSTM_BIASES), (backward, "backward ", _LSTM_BIASES)]
    if lstm.hasPeepholeVectors:
        groups += [(forward, "forward ", _LSTM_PEEPHOLES), (backward, "backward ", _LSTM_PEEPHOLES)]
    for weight_params, prefix, names in groups:
        for name in names:
            if problem := _lstm_weight_problem(layer, weight_params, name, inputs, outputs, prefix):
                return problem
    return None


def _crop(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 2), (1, 1)):
        return problem
    if walker.nd_array:
        if problem := walker.nd_ranks(layer, "Crop", 3, -1):
            return problem
        if len(layer.input) > 1 and (problem := walker.equal_ranks(layer, layer.input[:2], "Crop", "input")):
            return problem
    params = layer.crop
    if len(layer.input) == 1:
        if len(params.cropAmounts.borderAmounts) != 2:
            return LAYER_PARAMETERS, (f"{_label(layer)}: cropAmounts has {len(params.cropAmounts.borderAmounts)} "
                                      "entries; give exactly 2 (for y and x)")
    elif len(params.offset) != 2:
        return LAYER_PARAMETERS, f"{_label(layer)}: offset has {len(params.offset)} values; give exactly 2 (y and x)"
    return None


def _dot(walker, layer) -> Problem | None:
    if problem := _counts(layer, (2, 2), (1, 1)):
        return problem
    if walker.nd_array:
        return (walker.nd_ranks(layer, "DotProduct", 3, -1)
                or walker.equal_ranks(layer, layer.input[:2], "DotProduct", "input"))
    return None


def _embedding_weights(layer, params, vocabulary: int, outputs: int) -> Problem | None:
    """validateEmbeddingWeightsBias (embedding and embeddingND)."""
    weights_kind, bias_kind = value_type(params.weights), value_type(params.bias)
    if weights_kind == UNSPECIFIED or (params.hasBias and bias_kind == UNSPECIFIED):
        return WEIGHT_PRECISION, f"{_label(layer)}: weights or bias fill several value fields; keep exactly one"
    if params.hasBias and _mixed_precision(weights_kind, bias_kind):
        return _precision_problem(_label(layer), f"weights ({weights_kind}) and bias ({bias_kind})")
    if problem := general_weights_problem(params.weights, uint64_product(vocabulary, outputs), outputs, _label(layer),
                                          "weights"):
        return problem
    if params.hasBias:
        return general_weights_problem(params.bias, outputs, 1, _label(layer), "bias")
    return None


def _embedding(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "Embedding", 4, -1):
        return problem
    params = layer.embedding
    return _embedding_weights(layer, params, params.inputDim, params.outputChannels)


def _embedding_nd(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)) or walker.nd_ranks(layer, "EmbeddingND", 2, 5):
        return problem
    params = layer.embeddingND
    return _embedding_weights(layer, params, params.vocabSize, params.embeddingSize)


def _concat(walker, layer) -> Problem | None:
    if problem := _counts(layer, (2, -1), (1, 1)):
        return problem
    if walker.nd_array:
        low = 5 if layer.concat.sequenceConcat else 3
        return (walker.nd_ranks(layer, "Concat", low, -1)
                or walker.equal_ranks(layer, layer.input, "Concat", "input"))
    return None


def _custom(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, -1), (1, -1)):
        return problem
    if not layer.custom.className:
        return LAYER_PARAMETERS, (f"{_label(layer)}: className is empty; Core ML needs it to link the custom layer's "
                                  "implementation")
    for weights in layer.custom.weights:
        filled = [len(weights.floatValue) > 0, len(weights.float16Value) > 0, len(weights.rawValue) > 0,
                  len(weights.int8RawValue) > 0]
        if sum(filled) != 1:
            return WEIGHT_PRECISION, (f"{_label(layer)}: a weights entry does not fill exactly one value field; treat "
                                      "WeightParams as a oneof")
    return None


def _target_size_params(field_name: str):
    def check(walker, layer):
        size = len(getattr(layer, field_name).targetSize)
        if size not in (0, 2):
            return LAYER_PARAMETERS, f"{_label(layer)}: targetSize has {size} values; give 2 (height, width) or none"
        return None
    return check


def _crop_resize(walker, layer) -> Problem | None:
    if problem := _counts(layer, (2, 2), (1, 1)):
        return problem
    if walker.nd_array:
        if problem := (walker.nd_ranks(layer, "CropResize", 5, -1)
                       or walker.equal_ranks(layer, layer.input[:2], "CropResize", "input")):
            return problem
    return _target_size_params("cropResize")(walker, layer)


def _transpose(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    if not len(layer.transpose.axes):
        return _missing_target(layer, "axes")
    return None


def _copy(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    if layer.input[0] == layer.output[0]:
        return LAYER_PARAMETERS, f"{_label(layer)}: input and output have the same name; copy to a new blob"
    return None


def _first_input_rank(layer) -> int | None:
    return int32(layer.inputTensor[0].rank) if len(layer.inputTensor) else None


def _axis_in_rank(field_name: str, counts=((1, 1), (1, 1))):
    """Counts, then (when the layer declares its input rank) params.axis within [-rank, rank)."""
    def check(walker, layer):
        if problem := _counts(layer, *counts):
            return problem
        rank = _first_input_rank(layer)
        if rank is not None:
            return _axis_problem(layer, getattr(layer, field_name).axis, rank)
        return None
    return check


def _reverse(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    rank = _first_input_rank(layer)
    if rank is not None and len(layer.reverse.reverseDim) != rank:
        return LAYER_PARAMETERS, (f"{_label(layer)}: reverseDim has {len(layer.reverse.reverseDim)} values but the "
                                  f"input has rank {rank}")
    return None


def _boolean(walker, layer) -> Problem | None:
    kind = layer.WhichOneof("layer")
    inputs = (1, 1) if kind == "logicalNot" else (2, 2) if kind in ("logicalAnd", "logicalOr", "logicalXor") else (1, 2)
    return _counts(layer, inputs, (1, 1))


def _required_shape(field_name: str, shape_field: str, inputs=(0, 0)):
    def check(walker, layer):
        if problem := _counts(layer, inputs, (1, 1)):
            return problem
        if not len(getattr(getattr(layer, field_name), shape_field)):
            return _missing_target(layer)
        return None
    return check


def _scatter(walker, layer) -> Problem | None:
    if problem := _counts(layer, (3, 3), (1, 1)):
        return problem
    if walker.nd_array:
        ins, outs = layer.inputTensor, layer.outputTensor
        if len(ins):
            if len(ins) != 3:
                return LAYER_TENSORS, f"{_label(layer)}: scatter needs 3 inputTensor entries"
            if not (ins[0].rank == ins[2].rank and ins[1].rank == 1):
                return LAYER_RANK, f"{_label(layer)}: input ranks are invalid for scatter"
        if len(ins) and len(outs):
            if len(outs) != 1:
                return LAYER_TENSORS, f"{_label(layer)}: scatter needs 1 outputTensor entry"
            if ins[0].rank != outs[0].rank:
                return LAYER_RANK, f"{_label(layer)}: output rank does not match the container input's rank"
    return None


def _stack(walker, layer) -> Problem | None:
    if problem := _counts(layer, (2, -1), (1, 1)):
        return problem
    if len(layer.inputTensor):
        first = int32(layer.inputTensor[0].rank)
        second = int32(layer.inputTensor[1].rank) if len(layer.inputTensor) > 1 else 0
        if first != second:
            return LAYER_RANK, f"{_label(layer)}: all inputs must have the same shape (ranks {first} and {second})"
        return _axis_problem(layer, layer.stack.axis, first, inclusive=True)
    return None


def _split_nd(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (2, -1)):
        return problem
    params = layer.splitND
    splits = len(params.splitSizes) if len(params.splitSizes) else params.numSplits
    if splits == 0:
        return LAYER_PARAMETERS, f"{_label(layer)}: give splitSizes or numSplits"
    rank = _first_input_rank(layer)
    if rank is not None and (problem := _axis_problem(layer, params.axis, rank)):
        return problem
    if splits != len(layer.output):
        return LAYER_PARAMETERS, (f"{_label(layer)}: {splits} splits but {len(layer.output)} outputs; make them "
                                  "agree")
    return None


def _clip(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    return _min_max_problem(layer, layer.clip)


def _min_max_problem(layer, params) -> Problem | None:
    if params.minVal > params.maxVal:
        return LAYER_PARAMETERS, f"{_label(layer)}: minVal {params.minVal} is greater than maxVal {params.maxVal}"
    return None


def _slice_static(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    params = layer.sliceStatic
    for what in ("beginIds", "endIds", "strides", "beginMasks", "endMasks"):
        if not len(getattr(params, what)):
            return _missing_target(layer, what)
    return None


def _reduction(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    rank = _first_input_rank(layer)
    if rank is not None:
        for axis in getattr(layer, layer.WhichOneof("layer")).axes:
            if problem := _axis_problem(layer, axis, rank):
                return problem
    return None


def _loop_break_continue(walker, layer) -> Problem | None:
    if walker.loop_depth == 0:
        return CONTROL_FLOW, f"{_label(layer)} must be inside the bodyNetwork of a loop layer"
    return None


def _rank_preserving_reshape(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    if not len(layer.inputTensor) or not len(layer.outputTensor):
        return LAYER_TENSORS, (f"{_label(layer)}: must declare the rank of its input and output "
                               "(inputTensor/outputTensor)")
    if not len(layer.rankPreservingReshape.targetShape):
        return _missing_target(layer)
    input_rank, output_rank = int32(layer.inputTensor[0].rank), int32(layer.outputTensor[0].rank)
    if input_rank != output_rank:
        return LAYER_RANK, f"{_label(layer)}: input and output ranks must be equal"
    if input_rank != len(layer.rankPreservingReshape.targetShape):
        return LAYER_PARAMETERS, f"{_label(layer)}: the input rank must equal the length of targetShape"
    return None


def _axes_problem(layer, axes, rank: int, *, expand: bool) -> Problem | None:
    """The normalised-axes part shared by expandDims (against the output rank) and squeeze (the input rank)."""
    normalised = []
    for axis in axes:
        axis = int32(axis)
        if axis < 0:
            axis += rank
        if axis in normalised:
            return LAYER_PARAMETERS, f"{_label(layer)}: axes refer to the same dimension more than once"
        normalised.append(axis)
    if max(normalised) > rank - 1 or min(normalised) < 0:
        side = "output" if expand else "input"
        return LAYER_PARAMETERS, f"{_label(layer)}: axes refer to a dimension beyond the {side} rank {rank}"
    return None


def _unique_axes_problem(layer, axes) -> Problem | None:
    if not len(axes):
        return LAYER_PARAMETERS, f"{_label(layer)}: axes cannot be empty"
    seen = set()
    for axis in axes:
        axis = int32(axis)
        if axis in seen:
            return LAYER_PARAMETERS, f"{_label(layer)}: all values in axes must be unique"
        seen.add(axis)
    return None


def _expand_dims(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    axes = layer.expandDims.axes
    if problem := _unique_axes_problem(layer, axes):
        return problem
    if len(layer.inputTensor) and len(layer.outputTensor):
        input_rank, output_rank = int32(layer.inputTensor[0].rank), int32(layer.outputTensor[0].rank)
        if input_rank + len(axes) != output_rank:
            return LAYER_RANK, f"{_label(layer)}: input rank plus the number of axes must equal the output rank"
        return _axes_problem(layer, axes, output_rank, expand=True)
    return None


def _squeeze(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    if layer.squeeze.squeezeAll:
        return None
    axes = layer.squeeze.axes
    if problem := _unique_axes_problem(layer, axes):
        return problem
    if len(layer.inputTensor) and len(layer.outputTensor):
        input_rank, output_rank = int32(layer.inputTensor[0].rank), int32(layer.outputTensor[0].rank)
        if input_rank != 1 and output_rank + len(axes) != input_rank:
            return LAYER_RANK, f"{_label(layer)}: output rank plus the number of axes must equal the input rank"
        return _axes_problem(layer, axes, input_rank, expand=False)
    return None


def _range(inputs_when_present):
    def check(walker, layer):
        inputs = inputs_when_present if len(layer.input) else (0, 0)
        if problem := _counts(layer, inputs, (1, 1)):
            return problem
        if len(layer.outputTensor):
            return _rank_problem(layer, "Range", 1, 1, "output", int32(layer.outputTensor[0].rank))
        return None
    return check


def _load_constant_nd(walker, layer) -> Problem | None:
    if problem := _counts(layer, (0, 0), (1, 1)):
        return problem
    params = layer.loadConstantND
    if not len(params.shape):
        return _missing_target(layer)
    if value_type(params.data) == UNSPECIFIED:
        return WEIGHT_PRECISION, f"{_label(layer)}: data fills several value fields; keep exactly one"
    if not 1 <= len(params.shape) <= 5:
        return LAYER_PARAMETERS, f"{_label(layer)}: shape must have 1 to 5 values"
    return general_weights_problem(params.data, uint64_product(*params.shape), 1, _label(layer),
                                   f"constants (shape {list(params.shape)})")


def _probability_params(field_name: str):
    def check(walker, layer):
        if problem := _counts(layer, (1, 1) if not field_name.endswith("Static") else (0, 0), (1, 1)):
            return problem
        params = getattr(layer, field_name)
        if field_name.endswith("Static") and not len(params.outputShape):
            return _missing_target(layer)
        if field_name.startswith("randomUniform"):
            return _min_max_problem(layer, params)
        # Written as two comparisons so that NaN passes, as upstream.
        if field_name.startswith("randomBernoulli") and (params.prob < 0.0 or params.prob > 1.0):
            return LAYER_PARAMETERS, f"{_label(layer)}: prob {params.prob} is outside [0, 1]"
        return None
    return check


def _top_k(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 2), (2, 2)) or walker.rank_equality(layer, "TopK"):
        return problem
    input_rank, second_rank = walker.rank_of(layer.input[0]), walker.rank_of(layer.output[1])
    if input_rank is not None and second_rank is not None and input_rank != second_rank:
        return LAYER_RANK, f"{_label(layer)}: input and second output must have equal ranks"
    rank = _first_input_rank(layer)
    return _axis_problem(layer, layer.topK.axis, rank) if rank is not None else None


def _arg_extreme(field_name: str):
    def check(walker, layer):
        if problem := _counts(layer, (1, 1), (1, 1)):
            return problem
        params = getattr(layer, field_name)
        if not params.removeDim and (problem := walker.rank_equality(layer, field_name)):
            return problem
        rank = _first_input_rank(layer)
        return _axis_problem(layer, params.axis, rank) if rank is not None else None
    return check


def _layer_normalization(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)):
        return problem
    params = layer.layerNormalization
    if not len(params.normalizedShape):
        return _missing_target(layer, "normalizedShape")
    if not params.HasField("gamma"):
        return _missing_target(layer, "gamma")
    if not params.HasField("beta"):
        return _missing_target(layer, "beta")
    # Upstream tests gamma's quantization twice (not beta's).
    if is_quantized(params.gamma):
        return QUANTIZATION, f"{_label(layer)}: gamma and beta must not be quantized"
    total = 1
    for size in params.normalizedShape:
        total = int32(total * size)
    if len(params.gamma.floatValue) != total:
        return WEIGHT_COUNT, (f"{_label(layer)}: gamma has {len(params.gamma.floatValue)} fp32 values but "
                              f"normalizedShape needs {total}")
    if len(params.beta.floatValue) != total:
        return WEIGHT_COUNT, (f"{_label(layer)}: beta has {len(params.beta.floatValue)} fp32 values but "
                              f"normalizedShape needs {total}")
    return None


def _constant_pad(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 2), (1, 1)) or walker.rank_equality(layer, "ConstantPad"):
        return problem
    params = layer.constantPad
    if len(layer.input) == 1:
        amounts = list(params.padAmounts)
        if len(amounts) % 2:
            return LAYER_PARAMETERS, f"{_label(layer)}: padAmounts has an odd number of values ({len(amounts)})"
        if not amounts:
            return LAYER_PARAMETERS, f"{_label(layer)}: padAmounts cannot be empty with a single input"
        if params.padToGivenOutputSizeMode:
            for dimension in range(len(amounts) // 2):
                if int32(amounts[2 * dimension]) > 0 and int32(amounts[2 * dimension + 1]) > 0:
                    return LAYER_PARAMETERS, (f"{_label(layer)}: with padToGivenOutputSizeMode only one pad amount "
                                              f"of dimension {dimension} may be non-zero")
    return None


def _arg_sort(walker, layer) -> Problem | None:
    if problem := _counts(layer, (1, 1), (1, 1)) or walker.rank_equality(layer, "Argsort"):
        return problem
    axis = layer.argSort.axis
    if axis < 0:
        return LAYER_PARAMETERS, f"{_label(layer)}: axis {axis} is negative; use a non-negative axis"
    rank = _first_input_rank(layer)
    if rank is not None and axis >= rank:
        return LAYER_PARAMETERS, f"{_label(layer)}: axis {axis} must be in [0, {rank})"
    return None


_LAYER_CHECKS = {
    "convolution": _convolution,
    "convolution3d": _convolution3d,
    "innerProduct": _inner_product,
    "batchnorm": _batchnorm,
    "activation": _activation,
    "pooling": _counts_and_ranks("Pooling", 4, -1, params=_pooling_params),
    "pooling3d": _counts_and_ranks("Pooling3d", 5, -1, params=_pooling3d_params),
    "globalPooling3d": _counts_and_ranks("Pooling3d", 5, -1),
    "padding": _counts_and_ranks("Padding", 2, -1, params=_padding_params),
    "concat": _concat,
    "lrn": _counts_and_ranks("LRNLayer", 3, -1, params=_lrn_params),
    "softmax": _counts_and_ranks("Softmax", 3, -1),
    "split": _split,
    "add": _counts_only((1, -1)),
    "multiply": _counts_only((1, -1)),
    "unary": lambda walker, layer: _counts(layer, (1, 1), (1, 1)) or (
        walker.rank_equality(layer, "Unary") if walker.nd_array else None),
    "upsample": _counts_and_ranks("Upsample", 3, -1, params=_upsample_params),
    "bias": _counts_and_ranks("Bias", 3, -1, params=_bias_params),
    "l2normalize": _counts_and_ranks("L2Normalize", 3, -1),
    "reshape": _counts_and_ranks("Reshape", 5, 5, params=_reshape_params),
    "flatten": _counts_and_ranks("Flatten", 3, -1),
    "permute": _counts_and_ranks("Permute", 5, 5, params=_permute_params),
    "reduce": _reduce,
    "loadConstant": _load_constant,
    "scale": _scale,
    "simpleRecurrent": _simple_recurrent,
    "gru": _gru,
    "uniDirectionalLSTM": _unidirectional_lstm,
    "biDirectionalLSTM": _bidirectional_lstm,
    "crop": _crop,
    "average": _counts_only((1, -1)),
    "max": _counts_only((1, -1)),
    "min": _counts_only((1, -1)),
    "dot": _dot,
    "mvn": _counts_and_ranks("MeanVarianceNormalize", 3, -1),
    "embedding": _embedding,
    "sequenceRepeat": _counts_and_ranks("SequenceRepeat", 5, -1),
    "reorganizeData": _counts_and_ranks("ReorganizeData", 3, -1, params=_reorganize_params),
    "slice": _slice,
    "custom": _custom,
    "resizeBilinear": _counts_and_ranks("ResizeBilinear", 3, -1, params=_target_size_params("resizeBilinear")),
    "cropResize": _crop_resize,
    "transpose": _transpose,
    "copy": _copy,
    "batchedMatmul": _batched_matmul,
    "concatND": _axis_in_rank("concatND", ((2, -1), (1, 1))),
    "softmaxND": _axis_in_rank("softmaxND"),
    "reverse": _reverse,
    "fillLike": _counts_only((1, 1)),
    "fillStatic": _required_shape("fillStatic", "targetShape"),
    "fillDynamic": _counts_only((1, 1)),
    "whereBroadcastable": _counts_only((3, 3)),
    **{name: _counts_only((1, 1)) for name in (
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "exp2",
        "matrixBandPart", "upperTriangular", "lowerTriangular", "erf", "gelu", "clampedReLU", "whereNonZero",
        "ceil", "floor", "round", "sign", "getShape", "randomNormalLike", "randomNormalDynamic",
        "categoricalDistribution")},
    "powBroadcastable": _counts_only((2, 2)),
    **{name: _boolean for name in ("greaterThan", "greaterEqual", "lessEqual", "lessThan", "equal", "notEqual",
                                   "logicalAnd", "logicalOr", "logicalXor", "logicalNot")},
    "loopContinue": lambda walker, layer: _counts(layer, (0, 0), (0, 0)) or _loop_break_continue(walker, layer),
    "loopBreak": lambda walker, layer: _counts(layer, (0, 0), (0, 0)) or _loop_break_continue(walker, layer),
    "rankPreservingReshape": _rank_preserving_reshape,
    "expandDims": _expand_dims,
    "flattenTo2D": _axis_in_rank("flattenTo2D"),
    "reshapeLike": _counts_only((2, 2)),
    "reshapeStatic": _required_shape("reshapeStatic", "targetShape", inputs=(1, 1)),
    "reshapeDynamic": _counts_only((2, 2)),
    "squeeze": _squeeze,
    "broadcastToLike": _counts_only((2, 2)),
    "broadcastToStatic": _required_shape("broadcastToStatic", "targetShape", inputs=(1, 1)),
    "broadcastToDynamic": _counts_only((2, 2)),
    **{name: _counts_only((2, 2)) for name in (
        "addBroadcastable", "subtractBroadcastable", "multiplyBroadcastable", "divideBroadcastable",
        "maxBroadcastable", "minBroadcastable", "floorDivBroadcastable", "modBroadcastable", "gather", "gatherND",
        "gatherAlongAxis", "reverseSeq", "sliceBySize")},
    "scatter": _scatter,
    "scatterND": _counts_only((3, 3)),
    "scatterAlongAxis": _counts_only((3, 3)),
    "stack": _stack,
    "splitND": _split_nd,
    "loadConstantND": _load_constant_nd,
    "clip": _clip,
    "sliceStatic": _slice_static,
    "sliceDynamic": _counts_only((2, 7)),
    "tile": _counts_only((1, 2)),
    "rangeStatic": _range((0, 0)),
    "rangeDynamic": _range((1, 3)),
    "embeddingND": _embedding_nd,
    "slidingWindows": _axis_in_rank("slidingWindows"),
    "randomNormalStatic": _probability_params("randomNormalStatic"),
    "randomUniformLike": _probability_params("randomUniformLike"),
    "randomUniformStatic": _probability_params("randomUniformStatic"),
    "randomUniformDynamic": _probability_params("randomUniformDynamic"),
    "randomBernoulliLike": _probability_params("randomBernoulliLike"),
    "randomBernoulliStatic": _probability_params("randomBernoulliStatic"),
    "randomBernoulliDynamic": _probability_params("randomBernoulliDynamic"),
    "topK": _top_k,
    "argMax": _arg_extreme("argMax"),
    "argMin": _arg_extreme("argMin"),
    **{name: _reduction for name in ("reduceL1", "reduceL2", "reduceMax", "reduceMin", "reduceSum", "reduceProd",
                                     "reduceMean", "reduceLogSum", "reduceSumSquare", "reduceLogSumExp")},
    "layerNormalization": _layer_normalization,
    "constantPad": _constant_pad,
    "NonMaximumSuppression": _counts_only((2, 5), (4, 4)),
    "oneHot": _counts_only((1, 2)),
    "cumSum": _counts_only((1, 2)),
    "argSort": _arg_sort,
}
