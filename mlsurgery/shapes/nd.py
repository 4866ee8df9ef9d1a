"""The concrete shape of every blob of a neural network, from its declared inputs, for the layers converters emit.

Core ML's own validator knows blob *ranks* only where layers declare them, and its rank-5 shaper
(``mlsurgery.shapes``) covers only iOS 11/12 networks. Rewrites need more: whether a reshape only
flattens ``[N, C, H, W]`` in channel-first order, which axis a ``softmaxND`` normalises and at what rank, what a
trailing reshape's input looks like. This module propagates exact shapes through the layer list, following the
shape rules written in NeuralNetwork.proto (apple/coremltools ``mlmodel/format/NeuralNetwork.proto``), for the
layers converters emit. Any other layer gives its outputs an unknown shape (``None``), and so does everything
computed from them: callers treat unknown as "cannot prove, do not rewrite".

Inputs are mapped as Core ML maps them: with the legacy rank-5 mapping a multi-array ``[C]`` is
``[1, 1, C, 1, 1]`` and ``[C, H, W]`` is ``[1, 1, C, H, W]``, an image ``[1, 1, channels, H, W]``; with the exact
mapping the declared shape is passed through and an image is ``[1, channels, H, W]`` (rank-4 image mapping) .
"""

from __future__ import annotations

import math

from ..coreml import LEGACY_REDUCE_AXES, ND_REDUCTION_KINDS, exact_rank_arrays, rank4_images

Shape = tuple[int, ...]

# Layers whose single output has the shape of their (first) input (NeuralNetwork.proto: "Output shape is same as
# the input" for each, or an elementwise map).
_SAME_SHAPE = frozenset({
    "activation", "batchnorm", "softmax", "softmaxND", "copy", "unary", "l2normalize", "lrn", "mvn", "clip",
    "ceil", "floor", "round", "sign", "exp", "exp2", "log", "sqrt", "rsqrt", "abs", "erf", "gelu", "sin", "cos",
    "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "logicalNot", "bias",
    "scale", "clampedReLU", "layerNormalization", "reverse", "reverseSeq", "cumSum", "argSort", "lowerTriangular",
    "upperTriangular", "matrixBandPart",
    # Layers that only read their input's shape ("the same shape as the input tensor"), and the scatters ("the
    # same shape as the first input", the container).
    "fillLike", "randomNormalLike", "randomUniformLike", "randomBernoulliLike", "scatter", "scatterND",
    "scatterAlongAxis",
})
# Elementwise layers over inputs broadcast to a common shape (NeuralNetwork.proto: "Broadcasting is supported").
_BROADCASTING = frozenset({"add", "multiply", "max", "min", "average", "addBroadcastable", "multiplyBroadcastable",
                           "subtractBroadcastable", "divideBroadcastable", "maxBroadcastable", "minBroadcastable",
                           "powBroadcastable", "floorDivBroadcastable", "modBroadcastable", "whereBroadcastable",
                           "equal", "notEqual", "lessThan", "lessEqual", "greaterThan", "greaterEqual",
                           "logicalAnd", "logicalOr", "logicalXor"})


def input_shapes(spec_model, network) -> dict[str, Shape | None]:
    """The tensor shape each model input has inside ``network`` (the network of ``spec_model``)."""
    exact = exact_rank_arrays(network)
    rank4 = rank4_images(network)
    shapes: dict[str, Shape | None] = {}
    for feature in spec_model.description.input:
        kind = feature.type.WhichOneof("Type")
        shape: Shape | None = None
        if kind == "multiArrayType":
            declared = tuple(int(d) for d in feature.type.multiArrayType.shape)
            if not declared:
                shape = None
            elif exact:
                shape = declared
            elif len(declared) == 1:
                shape = (1, 1, declared[0], 1, 1)
            elif len(declared) == 3:
                shape = (1, 1) + declared
        elif kind == "imageType":
            image = feature.type.imageType
            channels = 1 if image.colorSpace == 10 else 3  # GRAYSCALE = 10
            spatial = (channels, int(image.height), int(image.width))
            shape = ((1,) + spatial) if rank4 else ((1, 1) + spatial)
        shapes[feature.name] = shape
    return shapes


def blob_shapes(spec_model, network) -> dict[str, Shape | None]:
    """Every blob's shape after the top-level layers run in order (``None``: unknown)."""
    shapes = dict(input_shapes(spec_model, network))
    for layer in network.layers:
        kind = layer.WhichOneof("layer")
        inputs = [shapes.get(name) for name in layer.input]
        try:
            outputs = _infer(kind, layer, inputs, len(layer.output))
        except (ValueError, IndexError, ZeroDivisionError, AttributeError):
            outputs = None
        for position, name in enumerate(layer.output):
            shapes[name] = outputs[position] if outputs is not None and position < len(outputs) else None
    return shapes


def _infer(kind: str | None, layer, inputs: list[Shape | None], n_outputs: int) -> list[Shape | None] | None:
    if kind in ("loadConstantND", "loadConstant"):
        shape = tuple(int(d) for d in getattr(layer, kind).shape)
        return [shape if kind == "loadConstantND" else (1, 1) + shape if len(shape) == 3 else None]
    if kind in _STATIC_SOURCES:  # no input: the shape is a parameter
        return [tuple(int(d) for d in getattr(getattr(layer, kind), _STATIC_SOURCES[kind]))]
    if not inputs or None in inputs:
        return None
    first = inputs[0]
    # Most layers of a network are these, which need no parameters: reading them (getattr) would cost more than
    # the inference.
    if kind in _SAME_SHAPE:
        return [first]
    if kind in _BROADCASTING:
        return [_broadcast(inputs)]
    params = getattr(layer, kind) if kind else None
    if kind in _RECURRENT_SIZES:
        return _recurrent(kind, params, first, n_outputs)
    if kind in _SEVERAL_OUTPUTS:
        return _SEVERAL_OUTPUTS[kind](params, inputs, n_outputs)
    handler = _HANDLERS.get(kind)
    return [handler(params, inputs)] if handler is not None else None


# Layers without inputs whose output shape is a parameter (NeuralNetwork.proto: "A N-Dimensional tensor of shape
# targetShape / outputShape").
_STATIC_SOURCES = {"fillStatic": "targetShape", "randomNormalStatic": "outputShape",
                   "randomUniformStatic": "outputShape", "randomBernoulliStatic": "outputShape"}


# Recurrent layers: (output vector size, whether the whole sequence is output). Their output-0 vector is twice the
# size for biDirectionalLSTM (forward and backward concatenated).
_RECURRENT_SIZES = {
    "simpleRecurrent": lambda p: (int(p.outputVectorSize), p.sequenceOutput),
    "gru": lambda p: (int(p.outputVectorSize), p.sequenceOutput),
    "uniDirectionalLSTM": lambda p: (int(p.outputVectorSize), p.params.sequenceOutput),
    "biDirectionalLSTM": lambda p: (int(p.outputVectorSize), p.params.sequenceOutput),
}


def _recurrent(kind: str, params, shape: Shape, n_outputs: int) -> list[Shape]:
    """simpleRecurrent, gru, uni/biDirectionalLSTM take ``[Seq, Batch, C, 1, 1]`` even in an exact-rank network
    (NeuralNetwork.proto); output 0 is ``[Seq, Batch, out, 1, 1]`` with sequenceOutput, else ``[1, Batch, out,
    1, 1]``, and every state output ``[1, Batch, out, 1, 1]``."""
    if len(shape) != 5:
        raise ValueError("recurrent layers need rank 5")
    size, sequence_output = _RECURRENT_SIZES[kind](params)
    steps = shape[0] if sequence_output else 1
    first = size * 2 if kind == "biDirectionalLSTM" else size
    return [(steps, shape[1], first, 1, 1)] + [(1, shape[1], size, 1, 1)] * (n_outputs - 1)


def _broadcast(shapes: list[Shape]) -> Shape:
    rank = max(len(shape) for shape in shapes)
    result = []
    for axis in range(rank):
        sizes = {shape[axis - rank + len(shape)] for shape in shapes if axis - rank + len(shape) >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError("shapes do not broadcast")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def _inner_product(params, inputs) -> Shape:
    shape, out = inputs[0], int(params.outputChannels)
    rank = len(shape)
    if rank == 1:
        return (out,)
    if rank == 2:
        return (shape[0], out)
    if rank == 3:
        return (shape[0], shape[1], out)
    if rank == 4:
        return (shape[0], out, 1, 1)
    if rank == 5:
        return (shape[0], shape[1], out, 1, 1)
    raise ValueError("innerProduct input rank")


def _window(size: int, kernel: int, stride: int, dilation: int, before: int, after: int) -> int:
    effective = (kernel - 1) * dilation + 1
    return (size + before + after - effective) // stride + 1


def _convolution(params, inputs) -> Shape:
    shape = inputs[0]
    if len(shape) < 4 or params.isDeconvolution:
        if params.isDeconvolution and len(params.outputShape) == 2:
            return shape[:-3] + (int(params.outputChannels),) + tuple(int(d) for d in params.outputShape)
        raise ValueError("unsupported convolution")
    kernel = list(params.kernelSize) or [3, 3]
    stride = list(params.stride) or [1, 1]
    dilation = list(params.dilationFactor) or [1, 1]
    height, width = shape[-2], shape[-1]
    if params.WhichOneof("ConvolutionPaddingType") == "same":
        out_h, out_w = math.ceil(height / stride[0]), math.ceil(width / stride[1])
    else:
        (top, bottom), (left, right) = _borders(params.valid.paddingAmounts)
        out_h = _window(height, kernel[0], stride[0], dilation[0], top, bottom)
        out_w = _window(width, kernel[1], stride[1], dilation[1], left, right)
    return shape[:-3] + (int(params.outputChannels), out_h, out_w)


def _pooling(params, inputs) -> Shape:
    shape = inputs[0]
    if len(shape) < 3:
        raise ValueError("pooling input rank")
    if params.globalPooling:
        return shape[:-2] + (1, 1)
    kernel = list(params.kernelSize) or [3, 3]
    stride = list(params.stride) or [1, 1]
    height, width = shape[-2], shape[-1]
    padding = params.WhichOneof("PoolingPaddingType")
    if padding == "same":
        return shape[:-2] + (math.ceil(height / stride[0]), math.ceil(width / stride[1]))
    if padding == "includeLastPixel":
        pads = list(params.includeLastPixel.paddingAmounts) or [0, 0]
        sizes = []
        for size, k, s, pad in ((height, kernel[0], stride[0], pads[0]), (width, kernel[1], stride[1], pads[1])):
            out = math.ceil((size + 2 * pad - k) / s) + 1
            if pad and (out - 1) * s >= size + pad:
                out -= 1
            sizes.append(out)
        return shape[:-2] + tuple(sizes)
    (top, bottom), (left, right) = _borders(params.valid.paddingAmounts)
    return shape[:-2] + (_window(height, kernel[0], stride[0], 1, top, bottom),
                         _window(width, kernel[1], stride[1], 1, left, right))


def _flatten(params, inputs) -> Shape:
    shape = inputs[0]
    if len(shape) < 3:
        raise ValueError("flatten input rank")
    return shape[:-3] + (shape[-3] * shape[-2] * shape[-1], 1, 1)


def _reshape_static(params, inputs) -> Shape:
    return resolve_target_shape(inputs[0], [int(d) for d in params.targetShape])


def resolve_target_shape(shape: Shape, target: list[int]) -> Shape:
    """``target`` with its one ``-1`` resolved so the element count of ``shape`` is kept."""
    total = math.prod(shape)
    if target.count(-1) > 1 or any(d == 0 or d < -1 for d in target):
        raise ValueError("unsupported target shape")
    if -1 in target:
        known = math.prod(d for d in target if d != -1)
        target = [total // known if d == -1 else d for d in target]
    if math.prod(target) != total:
        raise ValueError("reshape changes the element count")
    return tuple(target)


def _reshape(params, inputs) -> Shape:
    shape, target = inputs[0], [int(d) for d in params.targetShape]
    if len(shape) != 5:
        raise ValueError("legacy reshape needs rank 5")
    out = (shape[0], shape[1], *target) if len(target) == 3 else (target[0], shape[1], *target[1:])
    if math.prod(out) != math.prod(shape):
        raise ValueError("reshape changes the element count")
    return tuple(out)


def _flatten_to_2d(params, inputs) -> Shape:
    shape = inputs[0]
    axis = int(params.axis) + (len(shape) if params.axis < 0 else 0)
    return (math.prod(shape[:axis]), math.prod(shape[axis:]))


def _squeeze(params, inputs) -> Shape:
    shape = inputs[0]
    if params.squeezeAll:
        kept = tuple(d for d in shape if d != 1)
        return kept or (1,)
    axes = {int(a) % len(shape) for a in params.axes}
    if any(shape[a] != 1 for a in axes):
        raise ValueError("squeeze of a non-unit axis")
    kept = tuple(d for i, d in enumerate(shape) if i not in axes)
    return kept or (1,)


def _expand_dims(params, inputs) -> Shape:
    shape = inputs[0]
    rank = len(shape) + len(params.axes)
    axes = {int(a) % rank for a in params.axes}
    if len(axes) != len(params.axes):
        raise ValueError("expandDims names an axis twice")  # Core ML rejects it; the shape is unknown
    rest = iter(shape)
    return tuple(1 if i in axes else next(rest) for i in range(rank))


def _transpose(params, inputs) -> Shape:
    return tuple(inputs[0][int(a)] for a in params.axes)


def _concat_nd(params, inputs) -> Shape:
    axis = int(params.axis) % len(inputs[0])
    return inputs[0][:axis] + (sum(s[axis] for s in inputs),) + inputs[0][axis + 1:]


def _concat(params, inputs) -> Shape:
    axis = -5 if params.sequenceConcat else -3
    rank = len(inputs[0])
    return _concat_nd(type("Axis", (), {"axis": axis + rank})(), inputs)


def _batched_mat_mul(params, inputs) -> Shape:
    if len(inputs) == 1:
        shape = inputs[0]
        if shape[-1] != params.weightMatrixFirstDimension:
            raise ValueError("batchedMatMul inner size")
        return shape[:-1] + (int(params.weightMatrixSecondDimension),)
    a, b = list(inputs[0]), list(inputs[1])
    a = [1] + a if len(a) == 1 else a
    b = b + [1] if len(b) == 1 else b
    if params.transposeA:
        a[-1], a[-2] = a[-2], a[-1]
    if params.transposeB:
        b[-1], b[-2] = b[-2], b[-1]
    return _broadcast([tuple(a[:-2]), tuple(b[:-2])]) + (a[-2], b[-1])


def _slice_static(params, inputs) -> Shape:
    shape = inputs[0]
    result = []
    for axis, size in enumerate(shape):
        begin, end = int(params.beginIds[axis]), int(params.endIds[axis])
        stride = int(params.strides[axis]) if len(params.strides) > axis else 1
        if params.beginMasks[axis]:
            begin = 0 if stride > 0 else size - 1
        if params.endMasks[axis]:
            end = size if stride > 0 else -size - 1
        result.append(len(range(size)[slice(begin, end, stride)]))
    squeezed = [axis for axis, flag in enumerate(params.squeezeMasks) if flag]
    if any(result[axis] != 1 for axis in squeezed):
        raise ValueError("squeeze of a non-unit axis")
    kept = tuple(size for axis, size in enumerate(result) if axis not in squeezed)
    return kept or (1,)


def _slice(params, inputs) -> Shape:
    shape = list(inputs[0])
    axis = len(shape) - 3 + int(params.axis)  # CHANNEL, HEIGHT, WIDTH = axes -3, -2, -1
    shape[axis] = len(range(shape[axis])[slice(int(params.startIndex), int(params.endIndex), int(params.stride) or 1)])
    return tuple(shape)


def _upsample(params, inputs) -> Shape:
    shape = inputs[0]
    factors = [int(f) for f in params.scalingFactor] or [1, 1]
    if len(params.fractionalScalingFactor):
        raise ValueError("fractional upsampling")
    return shape[:-2] + (shape[-2] * factors[0], shape[-1] * factors[1])


def _permute(params, inputs) -> Shape:
    axes = [int(a) for a in params.axis] or [0, 1, 2, 3]
    shape = inputs[0]
    if len(shape) != 5:
        raise ValueError("permute needs rank 5")
    # Axes index [Seq, C, H, W]; the batch axis (1 of the rank-5 blob) stays in place.
    seq_chw = (shape[0], shape[2], shape[3], shape[4])
    moved = [seq_chw[a] for a in axes]
    return (moved[0], shape[1], moved[1], moved[2], moved[3])


def _embedding(params, inputs) -> Shape:
    shape = inputs[0]
    if len(shape) != 5:
        raise ValueError("embedding needs rank 5")
    return (shape[0], shape[1], int(params.outputChannels), 1, 1)


def _padding(params, inputs) -> Shape:
    """PaddingLayerParams: H + top + bottom, W + left + right on the last two axes."""
    shape = inputs[0]
    if len(shape) < 2:
        raise ValueError("padding input rank")
    (top, bottom), (left, right) = _borders(params.paddingAmounts, complete=True)
    return shape[:-2] + (shape[-2] + top + bottom, shape[-1] + left + right)


def _borders(amounts, *, complete: bool = False) -> tuple[tuple[int, int], tuple[int, int]]:
    """BorderAmounts as ((top, bottom), (left, right)), absent edges 0; ``complete``: height without width is an
    unknown shape (padding and crop, whose amounts are the whole point)."""
    edges = [(int(edge.startEdgeSize), int(edge.endEdgeSize)) for edge in amounts.borderAmounts]
    if complete and len(edges) not in (0, 2):
        raise ValueError("borderAmounts needs height and width")
    edges += [(0, 0)] * (2 - len(edges))
    return edges[0], edges[1]


def _crop(params, inputs) -> Shape:
    """CropLayerParams: with two inputs the second's H, W; with one, H and W less the crop amounts."""
    shape = inputs[0]
    if len(shape) < 3:
        raise ValueError("crop input rank")
    if len(inputs) == 2:
        return shape[:-2] + inputs[1][-2:]
    (top, bottom), (left, right) = _borders(params.cropAmounts, complete=True)
    height, width = shape[-2] - top - bottom, shape[-1] - left - right
    if height < 1 or width < 1:
        raise ValueError("crop removes everything")
    return shape[:-2] + (height, width)


def _resize_bilinear(params, inputs) -> Shape:
    """ResizeBilinearLayerParams: targetSize [H_out, W_out], [1, 1] when not set."""
    shape = inputs[0]
    target = tuple(int(d) for d in params.targetSize) or (1, 1)
    if len(shape) < 3 or len(target) != 2:
        raise ValueError("resizeBilinear input rank or target size")
    return shape[:-2] + target


def _reduce(params, inputs) -> Shape:
    """ReduceLayerParams: the same rank, with 1 on the reduced axes."""
    shape = list(inputs[0])
    axes = LEGACY_REDUCE_AXES[int(params.axis)]
    if len(shape) < len(axes) or (len(shape) < 3 and -3 in axes):
        raise ValueError("reduce input rank")
    for axis in axes:
        shape[axis] = 1
    return tuple(shape)


def _reduce_nd(params, inputs) -> Shape:
    """reduceSum, reduceMean, …: the axes (every axis with reduceAll or no axes) become 1 with keepDims, else go;
    a full reduction without keepDims is the rank-1 ``[1]``."""
    shape = inputs[0]
    axes = set(range(len(shape))) if params.reduceAll or not params.axes else \
        {_axis(int(a), len(shape)) for a in params.axes}
    if params.keepDims:
        return tuple(1 if axis in axes else size for axis, size in enumerate(shape))
    return tuple(size for axis, size in enumerate(shape) if axis not in axes) or (1,)


def _axis(axis: int, rank: int) -> int:
    """A possibly negative axis as an index into a shape of ``rank``."""
    if not -rank <= axis < rank:
        raise ValueError("axis out of range")
    return axis % rank


def _arg_extreme(params, inputs) -> Shape:
    """argMax, argMin: the axis becomes 1, or goes with removeDim when the rank is above 1."""
    shape = inputs[0]
    axis = _axis(int(params.axis), len(shape))
    if params.removeDim and len(shape) > 1:
        return shape[:axis] + shape[axis + 1:]
    return shape[:axis] + (1,) + shape[axis + 1:]


def _top_k(params, inputs, n_outputs: int) -> list[Shape]:
    """TopKLayerParams: values and indices have the input's shape with K along the axis (K from a second input is a
    value, unknown here)."""
    if len(inputs) > 1:
        raise ValueError("K is an input")
    shape = inputs[0]
    axis = _axis(int(params.axis), len(shape))
    return [shape[:axis] + (int(params.K),) + shape[axis + 1:]] * n_outputs


def _split(params, inputs, n_outputs: int) -> list[Shape]:
    """SplitLayerParams: ``nOutputs`` equal parts of axis -3."""
    shape, parts = inputs[0], int(params.nOutputs) or n_outputs
    if len(shape) < 3 or shape[-3] % parts or parts != n_outputs:
        raise ValueError("split does not divide the channels")
    return [shape[:-3] + (shape[-3] // parts,) + shape[-2:]] * parts


def _split_nd(params, inputs, n_outputs: int) -> list[Shape]:
    """SplitNDLayerParams: the axis cut into ``splitSizes``, or into ``numSplits`` equal parts."""
    shape = inputs[0]
    axis = _axis(int(params.axis), len(shape))
    sizes = [int(d) for d in params.splitSizes]
    if not sizes:
        parts = int(params.numSplits) or n_outputs
        if shape[axis] % parts:
            raise ValueError("splitND does not divide the axis")
        sizes = [shape[axis] // parts] * parts
    if sum(sizes) != shape[axis] or len(sizes) != n_outputs:
        raise ValueError("split sizes do not add up")
    return [shape[:axis] + (size,) + shape[axis + 1:] for size in sizes]


_SEVERAL_OUTPUTS = {"split": _split, "splitND": _split_nd, "topK": _top_k}


def _constant_pad(params, inputs) -> Shape:
    """ConstantPaddingLayerParams: each axis grows by its two amounts, or with padToGivenOutputSizeMode becomes
    at least their sum (one of the two is 0); amounts given as a second input are values, unknown here."""
    shape, amounts = inputs[0], [int(d) for d in params.padAmounts]
    if len(inputs) > 1 or len(amounts) != 2 * len(shape):
        raise ValueError("constantPad amounts")
    pairs = [amounts[2 * axis] + amounts[2 * axis + 1] for axis in range(len(shape))]
    if params.padToGivenOutputSizeMode:
        return tuple(max(size, pair) for size, pair in zip(shape, pairs))
    return tuple(size + pair for size, pair in zip(shape, pairs))


def _reorganize_data(params, inputs) -> Shape:
    """ReorganizeDataLayerParams: SPACE_TO_DEPTH [C·b², H/b, W/b]; DEPTH_TO_SPACE, PIXEL_SHUFFLE [C/b², H·b, W·b]."""
    shape, block = inputs[0], int(params.blockSize)
    if len(shape) < 3 or block < 2:
        raise ValueError("reorganizeData input rank or block size")
    channels, height, width = shape[-3:]
    if params.mode == 0:  # SPACE_TO_DEPTH
        if height % block or width % block:
            raise ValueError("block size does not divide H and W")
        return shape[:-3] + (channels * block * block, height // block, width // block)
    if channels % (block * block):
        raise ValueError("block size squared does not divide C")
    return shape[:-3] + (channels // (block * block), height * block, width * block)


def _tile(params, inputs) -> Shape:
    """TileLayerParams: each axis times its repetition, ``reps`` padded with leading 1s to the rank (reps given as
    a second input are values, unknown here)."""
    shape, reps = inputs[0], [int(d) for d in params.reps]
    if len(inputs) > 1 or not 1 <= len(reps) <= len(shape):
        raise ValueError("tile reps")
    reps = [1] * (len(shape) - len(reps)) + reps
    return tuple(size * rep for size, rep in zip(shape, reps))


def _stack(params, inputs) -> Shape:
    """StackLayerParams: inputs of one shape stacked on a new axis (counted in the output's rank)."""
    shape = inputs[0]
    if any(other != shape for other in inputs):
        raise ValueError("stack inputs differ")
    axis = _axis(int(params.axis), len(shape) + 1)
    return shape[:axis] + (len(inputs),) + shape[axis:]


def _gather(params, inputs) -> Shape:
    """GatherLayerParams (numpy.take): data's axis replaced by the indices' shape."""
    data, indices = inputs[0], inputs[1]
    axis = _axis(int(params.axis), len(data))
    return data[:axis] + indices + data[axis + 1:]


def _gather_along_axis(params, inputs) -> Shape:
    """GatherAlongAxisLayerParams (numpy.take_along_axis): the indices' shape."""
    return inputs[1]


def _slice_by_size(params, inputs) -> Shape:
    """SliceBySizeLayerParams: ``size`` elements of the axis (from a begin given as the second input)."""
    shape = inputs[0]
    axis, size = _axis(int(params.axis), len(shape)), int(params.size)
    if not 0 < size <= shape[axis]:
        raise ValueError("sliceBySize size")
    return shape[:axis] + (size,) + shape[axis + 1:]


def _broadcast_to_static(params, inputs) -> Shape:
    """BroadcastToStaticLayerParams: the input broadcast to ``targetShape``."""
    target = tuple(int(d) for d in params.targetShape)
    if _broadcast([inputs[0], target]) != target:
        raise ValueError("input does not broadcast to the target shape")
    return target


def _gather_nd(params, inputs) -> Shape:
    """GatherNDLayerParams: ``indices.shape[:-1] + data.shape[indices.shape[-1]:]``."""
    data, indices = inputs[0], inputs[1]
    if indices[-1] > len(data):
        raise ValueError("gatherND index depth")
    return (indices[:-1] + data[indices[-1]:]) or (1,)


def _one_hot(params, inputs) -> Shape:
    """OneHotLayerParams: a new axis of ``oneHotVectorSize`` at ``axis`` of the output (a size given as a second
    input is a value, unknown here)."""
    if len(inputs) > 1:
        raise ValueError("the one-hot size is an input")
    shape = inputs[0]
    axis = _axis(int(params.axis), len(shape) + 1)
    return shape[:axis] + (int(params.oneHotVectorSize),) + shape[axis:]


def _rank_preserving_reshape(params, inputs) -> Shape:
    """RankPreservingReshapeLayerParams: ``targetShape`` of the input's rank, 0 keeping that axis, one -1 inferred."""
    shape, target = inputs[0], [int(d) for d in params.targetShape]
    if len(target) != len(shape):
        raise ValueError("rankPreservingReshape changes the rank")
    return resolve_target_shape(shape, [size if wanted == 0 else wanted for size, wanted in zip(shape, target)])


def _sequence_repeat(params, inputs) -> Shape:
    """SequenceRepeatLayerParams: axis -5 times ``nRepetitions`` (1 when 0)."""
    shape = inputs[0]
    if len(shape) < 5:
        raise ValueError("sequenceRepeat input rank")
    return shape[:-5] + (shape[-5] * (int(params.nRepetitions) or 1),) + shape[-4:]


def _sliding_windows(params, inputs) -> Shape:
    """SlidingWindowsLayerParams: the axis of length L becomes M = (L - windowSize) / step + 1 windows followed by
    an axis of windowSize."""
    shape = inputs[0]
    axis, size, step = _axis(int(params.axis), len(shape)), int(params.windowSize), int(params.step) or 1
    if not 0 < size <= shape[axis]:
        raise ValueError("slidingWindows window size")
    return shape[:axis] + ((shape[axis] - size) // step + 1, size) + shape[axis + 1:]


def _embedding_nd(params, inputs) -> Shape:
    """EmbeddingNDLayerParams: the last axis, which must be 1, becomes ``embeddingSize``."""
    shape = inputs[0]
    if len(shape) < 2 or shape[-1] != 1:
        raise ValueError("embeddingND needs a last axis of 1")
    return shape[:-1] + (int(params.embeddingSize),)


def _global_pooling_3d(params, inputs) -> Shape:
    """GlobalPooling3DLayerParams: [B, C, D, H, W] → [B, C, 1, 1, 1]."""
    shape = inputs[0]
    if len(shape) != 5:
        raise ValueError("globalPooling3d needs rank 5")
    return shape[:2] + (1, 1, 1)


_HANDLERS = {
    "padding": _padding,
    "crop": _crop,
    "resizeBilinear": _resize_bilinear,
    "reduce": _reduce,
    **dict.fromkeys(ND_REDUCTION_KINDS, _reduce_nd),
    "argMax": _arg_extreme,
    "argMin": _arg_extreme,
    "constantPad": _constant_pad,
    "reorganizeData": _reorganize_data,
    "tile": _tile,
    "stack": _stack,
    "gather": _gather,
    "gatherAlongAxis": _gather_along_axis,
    "sliceBySize": _slice_by_size,
    "broadcastToStatic": _broadcast_to_static,
    "broadcastToLike": lambda params, inputs: inputs[1],  # "the same shape as the second input"
    "embeddingND": _embedding_nd,
    "gatherND": _gather_nd,
    "oneHot": _one_hot,
    "rankPreservingReshape": _rank_preserving_reshape,
    "sequenceRepeat": _sequence_repeat,
    "slidingWindows": _sliding_windows,
    "getShape": lambda params, inputs: (len(inputs[0]),),  # "a vector of length R, the rank of the input"
    "reshapeLike": lambda params, inputs: inputs[1],  # "the same shape as the second input"
    "globalPooling3d": _global_pooling_3d,
    "upsample": _upsample,
    "permute": _permute,
    "embedding": _embedding,
    "innerProduct": _inner_product,
    "convolution": _convolution,
    "pooling": _pooling,
    "flatten": _flatten,
    "reshapeStatic": _reshape_static,
    "reshape": _reshape,
    "flattenTo2D": _flatten_to_2d,
    "squeeze": _squeeze,
    "expandDims": _expand_dims,
    "transpose": _transpose,
    "concatND": _concat_nd,
    "concat": _concat,
    "batchedMatmul": _batched_mat_mul,
    "sliceStatic": _slice_static,
    "slice": _slice,
}


def feature_shape(shape: Shape, exact_ranks: bool) -> list[int]:
    """How a model feature declares a blob of this shape: as is in an exact-rank network; in a rank-5 network
    ``[C, H, W]`` (or ``[C]`` when H and W are 1), the forms Core ML maps to ``[1, 1, C, H, W]``."""
    if exact_ranks or len(shape) != 5:
        return list(shape)
    return [shape[2]] if shape[3:] == (1, 1) else list(shape[2:])
