"""How each layer type constrains the shapes of its inputs and outputs in Core ML's rank-5 shape inference.

Upstream: mlmodel/src/LayerShapeConstraints.cpp and mlmodel/src/Validation/NeuralNetwork/NeuralNetworkShapes.cpp;
``LAYER_SHAPES`` maps each layer type to its function, which ``Shaper`` calls forwards and backwards; each
function's first argument is that shaper (not imported here: ``shapes`` imports this module).
"""

from __future__ import annotations

import copy
import functools
from typing import NamedTuple

from ..coreml import int32
from .ranges import AXES, Constraint, Range, ShapeError, Value, shaper_div, size_t


def _at(values, index: int) -> int:
    if index >= len(values):
        raise ShapeError("index out of range")
    return values[index]


def _share_sequence_batch(source: Constraint, target: Constraint, *, intersect_first: bool = True) -> None:
    """The common opening: the output takes the input's sequence and batch ranges, then the input the output's."""
    for axis in ("sequence", "batch"):
        target.update(axis, target[axis].intersect(source[axis]) if intersect_first else source[axis])
    for axis in ("sequence", "batch"):
        source.update(axis, target[axis])


class _ConvolutionGeometry(NamedTuple):
    """What ``_convolution`` reads from a convolution layer's parameters, converted as upstream converts them."""

    input_channels: int
    output_channels: int
    output_shape: tuple[int, int] | None  # a deconvolution's explicit output height and width
    padding: str | None  # the ConvolutionPaddingType
    is_deconvolution: bool
    # (axis, stride, dilated kernel, the two paddings in the order upstream adds them, then subtracts them)
    axes: tuple[tuple[str, int, int, tuple[int, int], tuple[int, int]], ...]


def _convolution_geometry(layer) -> _ConvolutionGeometry:
    conv = layer.convolution
    groups = int32(conv.nGroups) if conv.nGroups else 1
    channels = int32(conv.kernelChannels) if conv.isDeconvolution else int32(int32(conv.kernelChannels) * groups)
    kernel_h = kernel_w = 3
    stride_h = stride_w = dilation_h = dilation_w = 1
    if len(conv.kernelSize) == 2:
        kernel_h, kernel_w = int32(conv.kernelSize[0]), int32(conv.kernelSize[1])
    if len(conv.stride) == 2:
        stride_h, stride_w = int32(conv.stride[0]), int32(conv.stride[1])
    if len(conv.dilationFactor) == 2:
        dilation_h, dilation_w = int32(conv.dilationFactor[0]), int32(conv.dilationFactor[1])
    dilated_h = int32((kernel_h - 1) * dilation_h + 1)
    dilated_w = int32((kernel_w - 1) * dilation_w + 1)
    output_shape = None
    if conv.isDeconvolution and len(conv.outputShape) == 2:
        output_shape = (size_t(conv.outputShape[0]), size_t(conv.outputShape[1]))
    padding = conv.WhichOneof("ConvolutionPaddingType")
    top = bottom = left = right = 0
    if padding == "valid" and len(conv.valid.paddingAmounts.borderAmounts) == 2:
        amounts = conv.valid.paddingAmounts.borderAmounts
        top, bottom = int32(amounts[0].startEdgeSize), int32(amounts[0].endEdgeSize)
        left, right = int32(amounts[1].startEdgeSize), int32(amounts[1].endEdgeSize)
    axes = (("height", stride_h, dilated_h, (bottom, top), (top, bottom)),
            ("width", stride_w, dilated_w, (left, right), (right, left)))
    return _ConvolutionGeometry(size_t(channels), size_t(conv.outputChannels), output_shape, padding,
                                conv.isDeconvolution, axes)


def _convolution(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target, intersect_first=False)
    # Read once per shaper: this runs forwards and backwards on every pass, and reading the proto cost more than
    # the shape arithmetic.
    conv = shaper.read_once(layer, _convolution_geometry)
    source.set("channel", conv.input_channels)
    target.set("channel", conv.output_channels)
    if conv.output_shape is not None:
        target.set("height", conv.output_shape[0])
        target.set("width", conv.output_shape[1])
        return
    padding = conv.padding
    if padding is None:
        raise ShapeError("convolution padding type not set")
    if padding == "valid" and conv.is_deconvolution:
        for axis, stride, dilated, (first, second), (third, fourth) in conv.axes:
            lower = shaper_div(int32(int32(target.minimum(axis)) + first + second - dilated), stride) + 1
            upper = target[axis].maximum.add_int(first).add_int(second).sub_int(dilated).div(size_t(stride)).add_int(1)
            if lower > 0:
                source.lower_bound(axis, lower)
            source.upper_bound(axis, upper)
            target.update(axis, source[axis].minus_int(1).times(size_t(stride)).plus_int(dilated)
                          .minus_int(third).minus_int(fourth))
    elif padding == "valid":
        for axis, stride, dilated, (first, second), _ in conv.axes:
            reach = int32(dilated - first - second)
            if reach > 0:
                out_min = target.minimum(axis)
                lower = 0 if out_min == 0 else out_min - 1
                source.lower_bound(axis, size_t(lower * size_t(stride) + size_t(reach)))
                upper = target[axis].maximum.sub_int(1).mul(size_t(stride)).add(size_t(reach))
                in_max = source[axis].maximum
                # Upstream's parity test parses as (max + ((size_t)(pads - kernel) % 2)) != 0.
                if not in_max.unbound and size_t(in_max.val + size_t(first + second - dilated) % 2) != 0:
                    upper = upper.add_int(1)
                source.upper_bound(axis, upper)
            target.update(axis, source[axis].plus_int(first + second - dilated).divided_int(stride).plus_int(1))
    elif conv.is_deconvolution:
        for axis, stride, *_ in conv.axes:
            target.update(axis, source[axis].times(size_t(stride)))
    else:
        for axis, stride, *_ in conv.axes:
            extent = source[axis]
            target.update(axis, _same_padding_extent(extent.minimum.val, extent.maximum.val, size_t(stride)))
            source.lower_bound(axis, target.minimum(axis))
            source.upper_bound(axis, target[axis].maximum.mul(size_t(stride)))


@functools.lru_cache(maxsize=4096)
def _same_padding_extent(low: int | None, high: int | None, stride: int) -> Range:
    """``(input - 1) / stride + 1`` for an input range of these bounds, shared as ``fixed_range`` shares ranges:
    the arithmetic builds three ranges, and a network repeats the same few sizes and strides (an equal range
    that is the same object also lets the output's intersection return at once)."""
    return Range(Value(low), Value(high)).minus_int(1).divided(stride).plus_int(1)


def _pooling(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    for axis in ("sequence", "batch"):
        target.update(axis, target[axis].intersect(source[axis]))
    target.update("channel", source["channel"])
    for axis in ("sequence", "batch", "channel"):
        source.update(axis, target[axis])
    pool = layer.pooling
    kernel_h = kernel_w = 3
    stride_h = stride_w = 1
    if len(pool.kernelSize) == 2:
        kernel_h, kernel_w = int32(pool.kernelSize[0]), int32(pool.kernelSize[1])
    if len(pool.stride) == 2:
        stride_h, stride_w = int32(pool.stride[0]), int32(pool.stride[1])
    if pool.globalPooling:
        target.set("height", 1)
        target.set("width", 1)
        return
    padding = pool.WhichOneof("PoolingPaddingType")
    if padding == "valid":
        top = bottom = left = right = 0
        if len(pool.valid.paddingAmounts.borderAmounts) == 2:
            amounts = pool.valid.paddingAmounts.borderAmounts
            top, bottom = int32(amounts[0].startEdgeSize), int32(amounts[0].endEdgeSize)
            left, right = int32(amounts[1].startEdgeSize), int32(amounts[1].endEdgeSize)
        for axis, kernel, stride, start, end in (("height", kernel_h, stride_h, top, bottom),
                                                 ("width", kernel_w, stride_w, left, right)):
            reach = int32(kernel - end - start)
            if reach > 0:
                out_min = target.minimum(axis)
                lower = 0 if out_min == 0 else out_min - 1
                source.lower_bound(axis, size_t(lower * size_t(stride) + size_t(reach)))
            target.update(axis, source[axis].plus_int(start + end - kernel).divided(size_t(stride)).plus_int(1))
    elif padding == "same":
        for axis, stride in (("height", stride_h), ("width", stride_w)):
            target.update(axis, source[axis].minus_int(1).divided(size_t(stride)).plus_int(1))
    elif padding == "includeLastPixel":
        top = left = 0
        if len(pool.includeLastPixel.paddingAmounts) == 2:
            top = int32(pool.includeLastPixel.paddingAmounts[0])
            left = int32(pool.includeLastPixel.paddingAmounts[1])
        # Upstream applies the width's input lower bound to the height (kept as is).
        for axis, kernel, stride, pad in (("height", kernel_h, stride_h, top), ("width", kernel_w, stride_w, left)):
            extra = 0
            if top or left:
                in_min = int32(source.minimum(axis))
                if int32(in_min - 1 + (2 * pad - kernel - 1) + 2 * stride) >= int32(in_min + pad):
                    extra = -1
            target.update(axis, source[axis].plus_int(2 * pad - kernel).divided_round_up(size_t(stride))
                          .plus_int(1).plus_int(extra))
            if int32(kernel - 2 * pad) > 0:
                source.lower_bound("height", size_t(target.minimum(axis) - 1 + size_t(kernel - 2 * pad)))
    else:
        raise ShapeError("pooling padding type not set")


def _unchanged(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    target.copy_from(source)
    source.copy_from(target)


def _vector_sizes(shaper, layer, in_channels: int, out_channels: int, *, intersect_first: bool) -> None:
    """innerProduct and embedding: the input is [in_channels, 1, 1] and the output [out_channels, 1, 1]."""
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target, intersect_first=intersect_first)
    for constraint, channels in ((source, in_channels), (target, out_channels)):
        constraint.set("channel", channels)
        constraint.set("height", 1)
        constraint.set("width", 1)


def _inner_product(shaper, layer) -> None:
    params = layer.innerProduct
    _vector_sizes(shaper, layer, params.inputChannels, params.outputChannels, intersect_first=True)


def _embedding(shaper, layer) -> None:
    _vector_sizes(shaper, layer, 1, layer.embedding.outputChannels, intersect_first=False)


def _crop(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    for axis in ("sequence", "batch", "channel"):
        target.update(axis, target[axis].intersect(source[axis]))
    for axis in ("sequence", "batch", "channel"):
        source.update(axis, target[axis])
    if len(layer.input) == 1:
        top = bottom = left = right = 0
        amounts = layer.crop.cropAmounts.borderAmounts
        if len(amounts) == 2:
            top, bottom = int32(amounts[0].startEdgeSize), int32(amounts[0].endEdgeSize)
            left, right = int32(amounts[1].startEdgeSize), int32(amounts[1].endEdgeSize)
        target.update("height", source["height"].minus_int(top).minus_int(bottom))
        target.update("width", source["width"].minus_int(right).minus_int(left))
        source.lower_bound("height", size_t(top + bottom + 1))
        source.lower_bound("width", size_t(right + left + 1))
    else:
        target.update("channel", source["channel"])
        reference = shaper.shape(layer.input[1])
        target.update("height", reference["height"])
        target.update("width", reference["width"])


def _padding(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    for axis in ("sequence", "batch"):
        target.update(axis, target[axis].intersect(source[axis]))
    for axis in ("sequence", "batch", "channel"):
        source.update(axis, target[axis])
    top = bottom = left = right = 0
    amounts = layer.padding.paddingAmounts.borderAmounts
    if len(amounts) == 2:
        top, bottom = amounts[0].startEdgeSize, amounts[0].endEdgeSize
        left, right = amounts[1].startEdgeSize, amounts[1].endEdgeSize
    target.update("channel", target["channel"].intersect(source["channel"]))
    target.update("height", source["height"].plus(top).plus(bottom))
    target.update("width", source["width"].plus(right).plus(left))
    source.update("height", target["height"].minus(top).minus(bottom))
    source.update("width", target["width"].minus(left).minus(right))


def _upsample(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    for axis in ("sequence", "batch", "channel"):
        target.update(axis, target[axis].intersect(source[axis]))
    for axis in ("sequence", "batch", "channel"):
        source.update(axis, target[axis])
    factors = list(layer.upsample.scalingFactor)
    factor_h = factor_w = 1
    if len(factors) == 2:
        factor_h, factor_w = factors[0] or 1, factors[1] or 1
    target.update("height", source["height"].times(factor_h))
    target.update("width", source["width"].times(factor_w))
    source.update("height", target["height"].divided(factor_h))
    source.update("width", target["width"].divided(factor_w))


def _broadcast(shaper, layer) -> None:
    first = shaper.shape(layer.input[0])
    merged = {axis: first[axis] for axis in AXES}
    fixed = first.has_fixed_chw()
    for blob in layer.input[1:]:
        other = shaper.shape(blob)
        fixed = fixed and other.has_fixed_chw()
        for axis in ("sequence", "batch"):
            merged[axis] = merged[axis].intersect(other[axis])
        for axis in ("channel", "height", "width"):
            merged[axis] = merged[axis].unify(other[axis])
    target = shaper.output(layer.output[0])
    for axis in ("sequence", "batch"):
        target.update(axis, target[axis].intersect(merged[axis]))
    for axis in ("channel", "height", "width"):
        if fixed:
            target.set(axis, merged[axis].maximum.value())
        else:
            target.update(axis, target[axis].intersect(merged[axis]))
    for blob in layer.input:
        source = shaper.shape(blob)
        for axis in ("sequence", "batch"):
            source.update(axis, target[axis])
        # A load-constant input has a fixed shape and is left alone.
        if not source.has_fixed_chw():
            for axis in ("channel", "height", "width"):
                source.update(axis, target[axis])


def _dot(shaper, layer) -> None:
    first = shaper.shape(layer.input[0])
    second = shaper.shape(layer.input[1])
    # Upstream works on a copy of the output's constraint, so nothing it sets on the output is kept.
    target = copy.deepcopy(shaper.shape(layer.output[0]))
    target.name = layer.output[0]
    for source in (first, second):
        for axis in ("sequence", "batch"):
            target.update(axis, target[axis].intersect(source[axis]))
    for source in (first, second):
        source.set("height", 1)
        source.set("width", 1)
    first.copy_from(second)
    second.copy_from(first)
    for source in (first, second):
        for axis in ("sequence", "batch"):
            source.update(axis, target[axis])
    for axis in ("channel", "height", "width"):
        target.set(axis, 1)


def _reduce(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target)
    axis = layer.reduce.axis
    # ReduceAxis: CHW 0, HW 1, C 2, H 3, W 4.
    if axis == 0:
        for name in ("channel", "height", "width"):
            target.set(name, 1)
    elif axis == 1:
        _keep(source, target, "channel")
        target.set("height", 1)
        target.set("width", 1)
    elif axis == 3:
        _keep(source, target, "channel")
        target.set("height", 1)
        _keep(source, target, "width")
    elif axis == 4:
        _keep(source, target, "channel")
        _keep(source, target, "height")
        target.set("width", 1)
    elif axis == 2:
        target.set("channel", 1)
        _keep(source, target, "height")
        # Upstream updates the output's width with itself here (the input's width is not constrained back).
        target.update("width", target["width"].intersect(source["width"]))
        target.update("width", target["width"])
    elif axis in (-(1 << 31), (1 << 31) - 1):
        raise ShapeError("reduce layer axis not set")


def _keep(source: Constraint, target: Constraint, axis: str) -> None:
    target.update(axis, target[axis].intersect(source[axis]))
    source.update(axis, target[axis])


def _load_constant(shaper, layer) -> None:
    target = shaper.output(layer.output[0])
    shape = layer.loadConstant.shape
    target.set("sequence", 1)
    target.set("batch", 1)
    for position, axis in enumerate(("channel", "height", "width")):
        target.set(axis, size_t(_at(shape, position)))


def _reshape(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    shape = layer.reshape.targetShape
    target.update("batch", source["batch"])
    if len(shape) == 3:
        target.update("sequence", target["sequence"].intersect(source["sequence"]))
        sizes = list(shape)
    else:
        # Upstream passes a size_t where a range is expected: it becomes the range [size, inf).
        target.update("sequence", Range.at_least(size_t(_at(shape, 0))))
        sizes = [_at(shape, position) for position in (1, 2, 3)]
    for axis, size in zip(("channel", "height", "width"), sizes):
        target.set(axis, size_t(size))


def _flatten(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target, intersect_first=False)
    target.update("channel", source["channel"].times_range(source["height"]).times_range(source["width"]))
    target.set("height", 1)
    target.set("width", 1)


def _permute(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    ranges = [source["sequence"], source["channel"], source["height"], source["width"]]
    axes = [size_t(_at(layer.permute.axis, position)) for position in range(4)]
    if any(axis > 3 for axis in axes):
        raise ShapeError("permute axis index out of bounds")
    target = shaper.output(layer.output[0])
    order = ("sequence", "channel", "height", "width")
    for name, axis in zip(order, axes):
        target.update(name, ranges[axis])
    back = [Range() for _ in range(4)]
    for name, axis in zip(order, axes):
        back[axis] = target[name]
    for name, axis_range in zip(order, back):
        source.update(name, axis_range)
    source.update("batch", target["batch"])


def _concat(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    along, across = ("sequence", "channel") if layer.concat.sequenceConcat else ("channel", "sequence")
    total = source[along]
    target.update(across, source[across])
    for axis in ("batch", "height", "width"):
        target.update(axis, source[axis])
    for blob in layer.input[1:]:
        other = shaper.shape(blob)
        total = total.plus_range(other[along])
        for axis in (across, "batch", "height", "width"):
            target.update(axis, other[axis])
            other.update(axis, target[axis])
    target.update(along, total)


def _split(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    parts = int32(layer.split.nOutputs)
    for blob in layer.output:
        target = shaper.output(blob)
        target.update("sequence", source["sequence"])
        target.update("batch", source["batch"])
        target.update("channel", source["channel"].divided_int(parts))
        target.update("height", source["height"])
        target.update("width", source["width"])
    first = shaper.shape(layer.output[0])
    source.update("sequence", first["sequence"])
    source.update("batch", first["batch"])
    source.update("channel", first["channel"].times(size_t(parts)))
    source.update("height", first["height"])
    source.update("width", first["width"])


def _sequence_repeat(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    target.update("sequence", source["sequence"].times(layer.sequenceRepeat.nRepetitions))
    for axis in ("batch", "channel", "height", "width"):
        target.update(axis, source[axis])
    for axis in ("batch", "channel", "height", "width"):
        source.update(axis, target[axis])


def _reorganize_data(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target, intersect_first=False)
    block = size_t(layer.reorganizeData.blockSize)
    square = size_t(block * block)
    if layer.reorganizeData.mode == 0:  # SPACE_TO_DEPTH
        target.update("channel", source["channel"].times(square))
        target.update("height", source["height"].divided(block))
        target.update("width", source["width"].divided(block))
        source.update("channel", target["channel"].divided(square))
        source.update("height", target["height"].times(block))
        source.update("width", target["width"].times(block))
    else:
        target.update("channel", source["channel"].divided(square))
        target.update("height", source["height"].times(block))
        target.update("width", source["width"].times(block))
        source.update("channel", target["channel"].times(square))
        source.update("height", target["height"].divided(block))
        source.update("width", target["width"].divided(block))


_SLICE_AXES = {0: "channel", 1: "height", 2: "width"}


def _slice(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target, intersect_first=False)
    params = layer.slice
    start, end, stride = int32(params.startIndex), int32(params.endIndex), int32(params.stride)
    sliced = _SLICE_AXES.get(params.axis)
    fixed_size = None
    if start >= 0 and end > 0:
        fixed_size, in_lower = shaper_div(int32(end - 1 - start), stride) + 1, end
    elif start < 0 and end <= 0:
        fixed_size, in_lower = shaper_div(int32(-start - 1 + end), stride) + 1, -start
    if sliced is None:
        raise ShapeError("slice layer axis incorrect")
    sliced_range = None
    if fixed_size is None:
        if end <= 0:
            end = -end
        else:
            start = -start
        sliced_range = source[sliced].minus_int(start + 1 + end).divided_int(stride).plus_int(1)
        in_lower = start + 1 + end
    for axis in ("channel", "height", "width"):
        if axis != sliced:
            target.update(axis, source[axis])
        elif fixed_size is not None:
            target.set(axis, size_t(fixed_size))
        else:
            target.update(axis, sliced_range)
    for axis in ("channel", "height", "width"):
        if axis == sliced:
            source.lower_bound(axis, size_t(in_lower))
        else:
            source.update(axis, target[axis])


def _state_vector(constraint: Constraint, size: int) -> None:
    constraint.set("sequence", 1)
    constraint.set("channel", size)
    constraint.set("height", 1)
    constraint.set("width", 1)


def _recurrent(shaper, layer, in_size: int, out_size: int, sequence_output: bool,
               state_groups: tuple[tuple[int, ...], ...], out_channels: int | None = None) -> None:
    """simpleRecurrent, gru, uniDirectionalLSTM, biDirectionalLSTM: vectors in and out, then fixed-size states.

    ``state_groups`` lists the positions of the state inputs/outputs in the order upstream sets them: for each
    group, its inputs then its outputs.
    """
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    source.set("channel", in_size)
    source.set("height", 1)
    source.set("width", 1)
    target.set("channel", out_size if out_channels is None else out_channels)
    target.set("height", 1)
    target.set("width", 1)
    if sequence_output:
        target.update("sequence", source["sequence"])
    else:
        target.set("sequence", 1)
    groups = [([shaper.shape(layer.input[i]) for i in group], [shaper.output(layer.output[i]) for i in group])
              for group in state_groups]
    for ins, outs in groups:
        for constraint in ins + outs:
            _state_vector(constraint, out_size)


def _simple_recurrent(shaper, layer) -> None:
    params = layer.simpleRecurrent
    _recurrent(shaper, layer, params.inputVectorSize, params.outputVectorSize, params.sequenceOutput, ((1,),))


def _gru(shaper, layer) -> None:
    params = layer.gru
    groups = ((1,),) if len(layer.input) >= 2 else ()
    _recurrent(shaper, layer, params.inputVectorSize, params.outputVectorSize, params.sequenceOutput, groups)


def _unidirectional_lstm(shaper, layer) -> None:
    params = layer.uniDirectionalLSTM
    groups = ((1, 2),) if len(layer.input) >= 3 else ()
    _recurrent(shaper, layer, params.inputVectorSize, params.outputVectorSize, params.params.sequenceOutput,
               groups)


def _bidirectional_lstm(shaper, layer) -> None:
    params = layer.biDirectionalLSTM
    shaper.shape(layer.input[0]).upper_bound("sequence", Value(10000))
    groups = ((1, 2), (3, 4)) if len(layer.input) >= 5 else ()
    _recurrent(shaper, layer, params.inputVectorSize, params.outputVectorSize, params.params.sequenceOutput, groups,
               out_channels=size_t(2 * params.outputVectorSize))


def _custom(shaper, layer) -> None:
    for blob in layer.output:
        shaper.output(blob)


def _target_size(params) -> tuple[int, int]:
    sizes = list(params.targetSize)
    if len(sizes) == 2:
        return sizes[0] or 1, sizes[1] or 1
    return 1, 1


def _resize_bilinear(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    for axis in ("sequence", "batch", "channel"):
        target.update(axis, target[axis].intersect(source[axis]))
    height, width = _target_size(layer.resizeBilinear)
    target.set("height", height)
    target.set("width", width)
    for axis in ("sequence", "batch", "channel"):
        source.update(axis, source[axis].intersect(target[axis]))


def _crop_resize(shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    boxes = shaper.shape(layer.input[1])
    target = shaper.output(layer.output[0])
    target.update("sequence", target["sequence"].intersect(boxes["sequence"]))
    for axis in ("batch", "channel"):
        target.update(axis, target[axis].intersect(source[axis]))
    height, width = _target_size(layer.cropResize)
    target.set("height", height)
    target.set("width", width)
    source.update("channel", source["channel"].intersect(target["channel"]))
    boxes.update("sequence", boxes["sequence"].intersect(target["sequence"]))
    boxes.set("batch", 1)
    boxes.update("channel", Range.bounded(4, 5))
    boxes.set("width", 1)
    boxes.set("height", 1)


LAYER_SHAPES = {
    "convolution": _convolution,
    "pooling": _pooling,
    "activation": _unchanged,
    "innerProduct": _inner_product,
    "embedding": _embedding,
    "batchnorm": _unchanged,
    "mvn": _unchanged,
    "l2normalize": _unchanged,
    "softmax": _unchanged,
    "lrn": _unchanged,
    "crop": _crop,
    "padding": _padding,
    "upsample": _upsample,
    "unary": _unchanged,
    "add": _broadcast,
    "multiply": _broadcast,
    "average": _broadcast,
    "scale": _unchanged,
    "bias": _unchanged,
    "max": _unchanged,
    "min": _unchanged,
    "dot": _dot,
    "reduce": _reduce,
    "loadConstant": _load_constant,
    "reshape": _reshape,
    "flatten": _flatten,
    "permute": _permute,
    "concat": _concat,
    "split": _split,
    "sequenceRepeat": _sequence_repeat,
    "reorganizeData": _reorganize_data,
    "slice": _slice,
    "simpleRecurrent": _simple_recurrent,
    "gru": _gru,
    "uniDirectionalLSTM": _unidirectional_lstm,
    "biDirectionalLSTM": _bidirectional_lstm,
    "custom": _custom,
    "resizeBilinear": _resize_bilinear,
    "cropResize": _crop_resize,
}

# Handlers that, run again on the state they left, leave it unchanged (H(H(s)) = H(s)): they only intersect the
# first output with the first input and back, and fix constants, touching no other blob. The shaper need not run
# them again while those two blobs are unchanged; the others (sums, strides, crops) may still tighten a second
# time and always run.
IDEMPOTENT_SHAPES = frozenset({_unchanged, _inner_product, _embedding})
