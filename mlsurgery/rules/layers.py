"""The per-layer rules of Core ML's NeuralNetworkSpecValidator (part of MLS1xx) and what every layer check uses.

Upstream: mlmodel/src/Validation/NeuralNetwork/NeuralNetworkValidator.cpp (``validateNeuralNetwork``,
``validateLayer``), NeuralNetworkLayerValidator.cpp, NeuralNetworkValidatorUtils.hpp (input/output counts,
ranks, weight sizes, activations), mlmodel/src/Validation/ValidatorUtils-inl.hpp (how a WeightParams stores its
values) and QuantizationValidationUtils.cpp.

Here: the rules (MLS107–MLS118), how a WeightParams stores its values and the weight checks, and the helpers the
per-type checks share (counts, ranks, axes, activations). The per-type checks are in ``layer_checks`` (layer
types up to iOS 13) and ``nd_layer_checks`` (N-D layers); ``walker.NetworkWalker`` runs them in Core ML's order.

Arithmetic follows the C++ types: unsigned 64-bit products wrap, ``(int)`` casts keep 32 bits.
"""

from __future__ import annotations

from ..coreml import ACTIVATION_KINDS, RECURRENT_ACTIVATION_KINDS, int32, is_quantized, uint64_product
from ..weights import field_size
from .base import Problem, Rule, define_rule

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

MODEL_INPUT_PRODUCER = "__input"  # the producer name Core ML records for model inputs



# How a WeightParams stores its values (ValidatorUtils-inl.hpp valueType).
FLOAT32, FLOAT16, QUINT, QINT, UNSPECIFIED, EMPTY = "fp32", "fp16", "quantized", "int8", "several fields", "empty"


_VALUE_FIELDS = {"floatValue": FLOAT32, "float16Value": FLOAT16, "rawValue": QUINT, "int8RawValue": QINT}


def value_type(weights) -> str:
    # ListFields lists exactly the non-empty value fields (proto3). Stored weights (mlsurgery.weights) keep a
    # one-value stub in place of a large field, so presence reads true.
    kind = None
    for field, _ in weights.ListFields():
        found = _VALUE_FIELDS.get(field.name)
        if found is not None:
            if kind is not None:
                return UNSPECIFIED
            kind = found
    if kind is None:
        return EMPTY
    if (kind is QUINT or kind is QINT) and not is_quantized(weights):
        return EMPTY
    return kind


def float_count(weights, kind: str) -> int:
    return field_size(weights, "floatValue") if kind == FLOAT32 else field_size(weights, "float16Value") // 2


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


def general_weights_problem(weights, expected: int, out_channels: int, layer, what: str,
                            kind: str | None = None) -> Problem | None:
    """validateGeneralWeightParams for ``layer``'s field ``what``; ``kind`` is its ``value_type`` when the caller
    has it already."""
    kind = value_type(weights) if kind is None else kind
    if kind in (FLOAT32, FLOAT16):
        size = float_count(weights, kind)
        if size != expected:
            return WEIGHT_COUNT, (f"{label(layer)}: {what} has {size} values but Core ML expects {expected}; resize "
                                  f"{what} or fix the layer's declared dimensions")
        return None
    if kind == QUINT:
        needed = (uint64_product(weights.quantization.numberOfBits, expected) + 7) // 8
        if field_size(weights, "rawValue") < needed:
            return QUANTIZATION, (f"{label(layer)}: quantized {what} has {field_size(weights, 'rawValue')} bytes, "
                                  f"fewer than the {needed} needed for {expected} values; re-quantize the layer")
        problem = quantization_problem(weights, int32(out_channels))
        if problem:
            return QUANTIZATION, (f"{label(layer)}: quantized {what} has invalid quantization parameters "
                                  f"({problem}); re-quantize the layer with coremltools")
        return None
    if kind == UNSPECIFIED:
        return WEIGHT_PRECISION, (f"{label(layer)}: {what} fills several value fields (Core ML: \"unspecified\"); "
                                  "keep exactly one of floatValue, float16Value, rawValue, int8RawValue")
    return WEIGHTS_MISSING, (f"{label(layer)}: {what} is empty (no fp32, fp16 or quantized rawValue values); fill "
                             f"{what} with {expected} values")


def mixed_precision(*kinds: str) -> bool:
    return FLOAT32 in kinds and FLOAT16 in kinds


def precision_problem(where: str, what: str) -> Problem:
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


def count_problem(layer, what: str, count: int, low: int, high: int) -> Problem | None:
    """validateInputCount / validateOutputCount."""
    expectation = _unmet_bound(count, low, high)
    if expectation is None:
        return None
    return LAYER_IO_COUNT, (f"{label(layer)} has {count} {what}s but Core ML expects {expectation}; give it "
                            f"{expectation} {what} blob(s)")


def label(layer) -> str:
    return f"{layer.WhichOneof('layer') or 'untyped'} layer '{layer.name}'"


def rank_problem(layer, type_name: str, low: int, high: int, blob_role: str, rank: int) -> Problem | None:
    """checkRank."""
    expectation = _unmet_bound(rank, low, high)
    if expectation is None:
        return None
    return LAYER_RANK, (f"{label(layer)}: {type_name} {blob_role} has rank {rank} but Core ML expects rank "
                        f"{expectation}; reshape the blob or fix the declared ranks")


def axis_problem(layer, axis: int, rank: int, inclusive: bool = False) -> Problem | None:
    top = rank + 1 if inclusive else rank
    low = -(rank + 1) if inclusive else -rank
    if low <= axis < top:
        return None
    interval = f"[{low}, {top})"
    return LAYER_PARAMETERS, (f"{label(layer)}: axis {axis} is outside {interval} for its rank-{rank} input; "
                              "use an axis within the input's rank")


def missing_target(layer, what: str = "target shape") -> Problem:
    return LAYER_PARAMETERS, f"{label(layer)}: {what} is a required parameter and is empty; set it"


def activation_problem(layer, activation) -> Problem | None:
    """validateActivationParams."""
    kind = activation.WhichOneof("NonlinearityType")
    if kind not in ACTIVATION_KINDS:
        return UNSUPPORTED_LAYER, (f"{label(layer)}: the activation has no (or an unknown) non-linearity; set one "
                                   "of ReLU, tanh, sigmoid, …")
    if kind == "PReLU" and value_type(activation.PReLU.alpha) == UNSPECIFIED:
        return WEIGHT_PRECISION, (f"{label(layer)}: PReLU alpha fills several value fields; keep exactly one")
    if kind == "parametricSoftplus":
        alpha = value_type(activation.parametricSoftplus.alpha)
        beta = value_type(activation.parametricSoftplus.beta)
        if alpha != beta or UNSPECIFIED in (alpha, beta):
            return WEIGHT_PRECISION, (f"{label(layer)}: parametricSoftplus alpha and beta have inconsistent "
                                      "storage; store both the same way (both fp32 or both fp16)")
    return None


def recurrent_activation_problem(layer, activation) -> Problem | None:
    kind = activation.WhichOneof("NonlinearityType")
    if kind in RECURRENT_ACTIVATION_KINDS:
        return None
    return UNSUPPORTED_LAYER, (f"{label(layer)}: recurrent activation {kind or 'unset'} is not supported; use "
                               "linear, sigmoid, tanh, scaledTanh, sigmoidHard or ReLU")



def io_count_problem(layer, inputs: tuple[int, int], outputs: tuple[int, int]) -> Problem | None:
    n_inputs, n_outputs = len(layer.input), len(layer.output)
    (low_in, high_in), (low_out, high_out) = inputs, outputs
    # Within both bounds (a bound of 0 or less is none, as in _unmet_bound): the answer for almost every layer.
    if ((low_in <= 0 or n_inputs >= low_in) and (high_in <= 0 or n_inputs <= high_in)
            and (low_out <= 0 or n_outputs >= low_out) and (high_out <= 0 or n_outputs <= high_out)):
        return None
    return (count_problem(layer, "input", n_inputs, low_in, high_in)
            or count_problem(layer, "output", n_outputs, low_out, high_out))


def counts_only(inputs: tuple[int, int], outputs: tuple[int, int] = (1, 1)):
    return lambda walker, layer: io_count_problem(layer, inputs, outputs)


def counts_and_ranks(type_name: str, low: int, high: int, inputs=(1, 1), outputs=(1, 1), params=None):
    """Counts, then (N-D only) equal input/output ranks and a rank range, then an optional parameter check."""
    def check(walker, layer):
        return (io_count_problem(layer, inputs, outputs) or walker.nd_ranks(layer, type_name, low, high)
                or (params(walker, layer) if params else None))
    return check


