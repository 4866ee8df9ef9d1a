"""The checks of the N-D (iOS 14+) neural-network layer types, one per type (MLS1xx).

Upstream: mlmodel/src/Validation/NeuralNetwork/NeuralNetworkLayerValidator.cpp. Each check takes (walker, layer)
and returns the first ``Problem``; ``CHECKS`` maps layer types to them.
"""

from __future__ import annotations

from ..coreml import ND_REDUCTION_KINDS, int32, is_quantized, uint64_product
from ..weights import field_size
from .base import LayerCheck, Problem
from .layers import (
    CONTROL_FLOW,
    LAYER_PARAMETERS,
    LAYER_RANK,
    LAYER_TENSORS,
    QUANTIZATION,
    UNSPECIFIED,
    WEIGHT_COUNT,
    WEIGHT_PRECISION,
    axis_problem,
    counts_and_ranks,
    general_weights_problem,
    io_count_problem,
    label,
    missing_target,
    rank_problem,
    value_type,
)

def _target_size_params(field_name: str):
    def check(walker, layer):
        size = len(getattr(layer, field_name).targetSize)
        if size not in (0, 2):
            return LAYER_PARAMETERS, f"{label(layer)}: targetSize has {size} values; give 2 (height, width) or none"
        return None
    return check


def _crop_resize(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (2, 2), (1, 1)):
        return problem
    if walker.nd_array:
        if problem := (walker.nd_ranks(layer, "CropResize", 5, -1)
                       or walker.equal_ranks(layer, layer.input[:2], "CropResize", "input")):
            return problem
    return _target_size_params("cropResize")(walker, layer)


def _transpose(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    if not len(layer.transpose.axes):
        return missing_target(layer, "axes")
    return None


def _copy(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    if layer.input[0] == layer.output[0]:
        return LAYER_PARAMETERS, f"{label(layer)}: input and output have the same name; copy to a new blob"
    return None


def _first_input_rank(layer) -> int | None:
    return int32(layer.inputTensor[0].rank) if len(layer.inputTensor) else None


def _axis_in_rank(field_name: str, counts=((1, 1), (1, 1))):
    """Counts, then (when the layer declares its input rank) params.axis within [-rank, rank)."""
    def check(walker, layer):
        if problem := io_count_problem(layer, *counts):
            return problem
        rank = _first_input_rank(layer)
        if rank is not None:
            return axis_problem(layer, getattr(layer, field_name).axis, rank)
        return None
    return check


def _reverse(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    rank = _first_input_rank(layer)
    if rank is not None and len(layer.reverse.reverseDim) != rank:
        return LAYER_PARAMETERS, (f"{label(layer)}: reverseDim has {len(layer.reverse.reverseDim)} values but the "
                                  f"input has rank {rank}")
    return None


def _boolean(walker, layer) -> Problem | None:
    kind = layer.WhichOneof("layer")
    inputs = (1, 1) if kind == "logicalNot" else (2, 2) if kind in ("logicalAnd", "logicalOr", "logicalXor") else (1, 2)
    return io_count_problem(layer, inputs, (1, 1))


def _required_shape(field_name: str, shape_field: str, inputs=(0, 0)):
    def check(walker, layer):
        if problem := io_count_problem(layer, inputs, (1, 1)):
            return problem
        if not len(getattr(getattr(layer, field_name), shape_field)):
            return missing_target(layer)
        return None
    return check


def _scatter(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (3, 3), (1, 1)):
        return problem
    if walker.nd_array:
        ins, outs = layer.inputTensor, layer.outputTensor
        if len(ins):
            if len(ins) != 3:
                return LAYER_TENSORS, f"{label(layer)}: scatter needs 3 inputTensor entries"
            if not (ins[0].rank == ins[2].rank and ins[1].rank == 1):
                return LAYER_RANK, f"{label(layer)}: input ranks are invalid for scatter"
        if len(ins) and len(outs):
            if len(outs) != 1:
                return LAYER_TENSORS, f"{label(layer)}: scatter needs 1 outputTensor entry"
            if ins[0].rank != outs[0].rank:
                return LAYER_RANK, f"{label(layer)}: output rank does not match the container input's rank"
    return None


def _stack(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (2, -1), (1, 1)):
        return problem
    if len(layer.inputTensor):
        first = int32(layer.inputTensor[0].rank)
        second = int32(layer.inputTensor[1].rank) if len(layer.inputTensor) > 1 else 0
        if first != second:
            return LAYER_RANK, f"{label(layer)}: all inputs must have the same shape (ranks {first} and {second})"
        return axis_problem(layer, layer.stack.axis, first, inclusive=True)
    return None


def _split_nd(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (2, -1)):
        return problem
    params = layer.splitND
    splits = len(params.splitSizes) if len(params.splitSizes) else params.numSplits
    if splits == 0:
        return LAYER_PARAMETERS, f"{label(layer)}: give splitSizes or numSplits"
    rank = _first_input_rank(layer)
    if rank is not None and (problem := axis_problem(layer, params.axis, rank)):
        return problem
    if splits != len(layer.output):
        return LAYER_PARAMETERS, (f"{label(layer)}: {splits} splits but {len(layer.output)} outputs; make them "
                                  "agree")
    return None


def _clip(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    return _min_max_problem(layer, layer.clip)


def _min_max_problem(layer, params) -> Problem | None:
    if params.minVal > params.maxVal:
        return LAYER_PARAMETERS, f"{label(layer)}: minVal {params.minVal} is greater than maxVal {params.maxVal}"
    return None


def _slice_static(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    params = layer.sliceStatic
    for what in ("beginIds", "endIds", "strides", "beginMasks", "endMasks"):
        if not len(getattr(params, what)):
            return missing_target(layer, what)
    return None


def _reduction(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    rank = _first_input_rank(layer)
    if rank is not None:
        for axis in getattr(layer, layer.WhichOneof("layer")).axes:
            if problem := axis_problem(layer, axis, rank):
                return problem
    return None


def _loop_break_continue(walker, layer) -> Problem | None:
    if walker.loop_depth == 0:
        return CONTROL_FLOW, f"{label(layer)} must be inside the bodyNetwork of a loop layer"
    return None


def _rank_preserving_reshape(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    if not len(layer.inputTensor) or not len(layer.outputTensor):
        return LAYER_TENSORS, (f"{label(layer)}: must declare the rank of its input and output "
                               "(inputTensor/outputTensor)")
    if not len(layer.rankPreservingReshape.targetShape):
        return missing_target(layer)
    input_rank, output_rank = int32(layer.inputTensor[0].rank), int32(layer.outputTensor[0].rank)
    if input_rank != output_rank:
        return LAYER_RANK, f"{label(layer)}: input and output ranks must be equal"
    if input_rank != len(layer.rankPreservingReshape.targetShape):
        return LAYER_PARAMETERS, f"{label(layer)}: the input rank must equal the length of targetShape"
    return None


def _axes_problem(layer, axes, rank: int, *, expand: bool) -> Problem | None:
    """The normalised-axes part shared by expandDims (against the output rank) and squeeze (the input rank)."""
    normalised = []
    for axis in axes:
        axis = int32(axis)
        if axis < 0:
            axis += rank
        if axis in normalised:
            return LAYER_PARAMETERS, f"{label(layer)}: axes refer to the same dimension more than once"
        normalised.append(axis)
    if max(normalised) > rank - 1 or min(normalised) < 0:
        side = "output" if expand else "input"
        return LAYER_PARAMETERS, f"{label(layer)}: axes refer to a dimension beyond the {side} rank {rank}"
    return None


def _unique_axes_problem(layer, axes) -> Problem | None:
    if not len(axes):
        return LAYER_PARAMETERS, f"{label(layer)}: axes cannot be empty"
    seen = set()
    for axis in axes:
        axis = int32(axis)
        if axis in seen:
            return LAYER_PARAMETERS, f"{label(layer)}: all values in axes must be unique"
        seen.add(axis)
    return None


def _expand_dims(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    axes = layer.expandDims.axes
    if problem := _unique_axes_problem(layer, axes):
        return problem
    if len(layer.inputTensor) and len(layer.outputTensor):
        input_rank, output_rank = int32(layer.inputTensor[0].rank), int32(layer.outputTensor[0].rank)
        if input_rank + len(axes) != output_rank:
            return LAYER_RANK, f"{label(layer)}: input rank plus the number of axes must equal the output rank"
        return _axes_problem(layer, axes, output_rank, expand=True)
    return None


def _squeeze(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    if layer.squeeze.squeezeAll:
        return None
    axes = layer.squeeze.axes
    if problem := _unique_axes_problem(layer, axes):
        return problem
    if len(layer.inputTensor) and len(layer.outputTensor):
        input_rank, output_rank = int32(layer.inputTensor[0].rank), int32(layer.outputTensor[0].rank)
        if input_rank != 1 and output_rank + len(axes) != input_rank:
            return LAYER_RANK, f"{label(layer)}: output rank plus the number of axes must equal the input rank"
        return _axes_problem(layer, axes, input_rank, expand=False)
    return None


def _range(inputs_when_present):
    def check(walker, layer):
        inputs = inputs_when_present if len(layer.input) else (0, 0)
        if problem := io_count_problem(layer, inputs, (1, 1)):
            return problem
        if len(layer.outputTensor):
            return rank_problem(layer, "Range", 1, 1, "output", int32(layer.outputTensor[0].rank))
        return None
    return check


def _load_constant_nd(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (0, 0), (1, 1)):
        return problem
    params = layer.loadConstantND
    if not len(params.shape):
        return missing_target(layer)
    if value_type(params.data) == UNSPECIFIED:
        return WEIGHT_PRECISION, f"{label(layer)}: data fills several value fields; keep exactly one"
    if not 1 <= len(params.shape) <= 5:
        return LAYER_PARAMETERS, f"{label(layer)}: shape must have 1 to 5 values"
    return general_weights_problem(params.data, uint64_product(*params.shape), 1, layer,
                                   f"constants (shape {list(params.shape)})")


def _probability_params(field_name: str):
    def check(walker, layer):
        if problem := io_count_problem(layer, (1, 1) if not field_name.endswith("Static") else (0, 0), (1, 1)):
            return problem
        params = getattr(layer, field_name)
        if field_name.endswith("Static") and not len(params.outputShape):
            return missing_target(layer)
        if field_name.startswith("randomUniform"):
            return _min_max_problem(layer, params)
        # Written as two comparisons so that NaN passes, as upstream.
        if field_name.startswith("randomBernoulli") and (params.prob < 0.0 or params.prob > 1.0):
            return LAYER_PARAMETERS, f"{label(layer)}: prob {params.prob} is outside [0, 1]"
        return None
    return check


def _top_k(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 2), (2, 2)) or walker.rank_equality(layer, "TopK"):
        return problem
    input_rank, second_rank = walker.rank_of(layer.input[0]), walker.rank_of(layer.output[1])
    if input_rank is not None and second_rank is not None and input_rank != second_rank:
        return LAYER_RANK, f"{label(layer)}: input and second output must have equal ranks"
    rank = _first_input_rank(layer)
    return axis_problem(layer, layer.topK.axis, rank) if rank is not None else None


def _arg_extreme(field_name: str):
    def check(walker, layer):
        if problem := io_count_problem(layer, (1, 1), (1, 1)):
            return problem
        params = getattr(layer, field_name)
        if not params.removeDim and (problem := walker.rank_equality(layer, field_name)):
            return problem
        rank = _first_input_rank(layer)
        return axis_problem(layer, params.axis, rank) if rank is not None else None
    return check


def _layer_normalization(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)):
        return problem
    params = layer.layerNormalization
    if not len(params.normalizedShape):
        return missing_target(layer, "normalizedShape")
    if not params.HasField("gamma"):
        return missing_target(layer, "gamma")
    if not params.HasField("beta"):
        return missing_target(layer, "beta")
    # Upstream tests gamma's quantization twice (not beta's).
    if is_quantized(params.gamma):
        return QUANTIZATION, f"{label(layer)}: gamma and beta must not be quantized"
    total = 1
    for size in params.normalizedShape:
        total = int32(total * size)
    if field_size(params.gamma, "floatValue") != total:
        return WEIGHT_COUNT, (f"{label(layer)}: gamma has {field_size(params.gamma, 'floatValue')} fp32 values but "
                              f"normalizedShape needs {total}")
    if field_size(params.beta, "floatValue") != total:
        return WEIGHT_COUNT, (f"{label(layer)}: beta has {field_size(params.beta, 'floatValue')} fp32 values but "
                              f"normalizedShape needs {total}")
    return None


def _constant_pad(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 2), (1, 1)) or walker.rank_equality(layer, "ConstantPad"):
        return problem
    params = layer.constantPad
    if len(layer.input) == 1:
        amounts = list(params.padAmounts)
        if len(amounts) % 2:
            return LAYER_PARAMETERS, f"{label(layer)}: padAmounts has an odd number of values ({len(amounts)})"
        if not amounts:
            return LAYER_PARAMETERS, f"{label(layer)}: padAmounts cannot be empty with a single input"
        if params.padToGivenOutputSizeMode:
            for dimension in range(len(amounts) // 2):
                if int32(amounts[2 * dimension]) > 0 and int32(amounts[2 * dimension + 1]) > 0:
                    return LAYER_PARAMETERS, (f"{label(layer)}: with padToGivenOutputSizeMode only one pad amount "
                                              f"of dimension {dimension} may be non-zero")
    return None


def _arg_sort(walker, layer) -> Problem | None:
    if problem := io_count_problem(layer, (1, 1), (1, 1)) or walker.rank_equality(layer, "Argsort"):
        return problem
    axis = layer.argSort.axis
    if axis < 0:
        return LAYER_PARAMETERS, f"{label(layer)}: axis {axis} is negative; use a non-negative axis"
    rank = _first_input_rank(layer)
    if rank is not None and axis >= rank:
        return LAYER_PARAMETERS, f"{label(layer)}: axis {axis} must be in [0, {rank})"
    return None


# The check of each layer type these functions cover, by the layer's oneof case.
CHECKS: dict[str, LayerCheck] = {
    "resizeBilinear": counts_and_ranks("ResizeBilinear", 3, -1, params=_target_size_params("resizeBilinear")),
    "cropResize": _crop_resize,
    "transpose": _transpose,
    "copy": _copy,
    "concatND": _axis_in_rank("concatND", ((2, -1), (1, 1))),
    "softmaxND": _axis_in_rank("softmaxND"),
    "reverse": _reverse,
    "fillStatic": _required_shape("fillStatic", "targetShape"),
    **{name: _boolean for name in ("greaterThan", "greaterEqual", "lessEqual", "lessThan", "equal", "notEqual",
                                   "logicalAnd", "logicalOr", "logicalXor", "logicalNot")},
    "loopContinue": lambda walker, layer: (io_count_problem(layer, (0, 0), (0, 0))
                                           or _loop_break_continue(walker, layer)),
    "loopBreak": lambda walker, layer: (io_count_problem(layer, (0, 0), (0, 0))
                                        or _loop_break_continue(walker, layer)),
    "rankPreservingReshape": _rank_preserving_reshape,
    "expandDims": _expand_dims,
    "flattenTo2D": _axis_in_rank("flattenTo2D"),
    "reshapeStatic": _required_shape("reshapeStatic", "targetShape", inputs=(1, 1)),
    "squeeze": _squeeze,
    "broadcastToStatic": _required_shape("broadcastToStatic", "targetShape", inputs=(1, 1)),
    "scatter": _scatter,
    "stack": _stack,
    "splitND": _split_nd,
    "loadConstantND": _load_constant_nd,
    "clip": _clip,
    "sliceStatic": _slice_static,
    "rangeStatic": _range((0, 0)),
    "rangeDynamic": _range((1, 3)),
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
    **dict.fromkeys(ND_REDUCTION_KINDS, _reduction),
    "layerNormalization": _layer_normalization,
    "constantPad": _constant_pad,
    "argSort": _arg_sort,
}
