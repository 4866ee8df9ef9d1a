"""Layers that move data around: concat, split, flatten, reshape, permute/transpose, slice, squeeze/expand,
copy, reverse; and the layers that make tensors of a given shape (fill, broadcast, range, getShape). Legacy kinds
act on the rank-5 axes [Seq, Batch, C, H, W] (counted from the end); ND kinds on their ``axis``/``axes``
parameters of the example's own rank. A shape, size or slice bound that an ND layer reads from an input blob must be
the same for every example computed at once (``base.shared_values``)."""

from __future__ import annotations

import math

import torch

from .base import Stateless, Translator, example_rank, shared_integers, shared_values, tensor_axis


def copy(layer, context):
    return Stateless(layer, lambda x: x)


def concat(layer, context):
    dim = -5 if layer.concat.sequenceConcat else -3
    return Stateless(layer, lambda *xs: torch.cat(xs, dim=dim))


def concat_nd(layer, context):
    axis, interleave = int(layer.concatND.axis), layer.concatND.interleave

    def function(*xs):
        dim = tensor_axis(axis, example_rank(xs[0]))
        if not interleave:
            return torch.cat(xs, dim=dim)
        # interleave: the k-th slices of every input follow one another (all inputs have the same shape).
        stacked = torch.stack(xs, dim=dim + 1)
        return stacked.reshape(*xs[0].shape[:dim], -1, *xs[0].shape[dim + 1:])

    return Stateless(layer, function)


def split(layer, context):
    parts = int(layer.split.nOutputs) or len(layer.output)
    return Stateless(layer, lambda x: list(torch.chunk(x, parts, dim=-3)))


def split_nd(layer, context):
    params = layer.splitND
    axis, sizes, count = int(params.axis), [int(s) for s in params.splitSizes], int(params.numSplits)

    def function(x):
        dim = tensor_axis(axis, example_rank(x))
        if sizes:
            return list(torch.split(x, sizes, dim=dim))
        return list(torch.split(x, x.shape[dim] // (count or len(layer.output)), dim=dim))

    return Stateless(layer, function)


def flatten(layer, context):
    channel_last = layer.flatten.mode == type(layer.flatten).FlattenOrder.Value("CHANNEL_LAST")

    def function(x):
        lead = x.shape[:-3]
        if channel_last:
            x = x.movedim(-3, -1)
        return x.reshape(*lead, -1, 1, 1)

    return Stateless(layer, function)


def flatten_to_2d(layer, context):
    axis = int(layer.flattenTo2D.axis)

    def function(x):
        rank = example_rank(x)
        split_at = axis if axis >= 0 else axis + rank
        shape = x.shape[1:]
        return x.reshape(x.shape[0], math.prod(shape[:split_at]), math.prod(shape[split_at:]))

    return Stateless(layer, function)


def reshape_static(layer, context):
    target = [int(d) for d in layer.reshapeStatic.targetShape]
    return Stateless(layer, lambda x: x.reshape(x.shape[0], *target))


def reshape_dynamic(layer, context):
    """ReshapeDynamicLayerParams: the shape is the values of the second input."""
    return Stateless(layer, lambda x, shape: x.reshape(x.shape[0], *shared_integers(shape, "target shapes")))


def reshape_like(layer, context):
    return Stateless(layer, lambda x, like: x.reshape(like.shape))


def reshape(layer, context):
    """Legacy reshape of a rank-5 example [Seq, Batch, C, H, W]; the Batch axis is kept (NeuralNetwork.proto)."""
    params = layer.reshape
    target = [int(d) for d in params.targetShape]
    channel_last = params.mode == type(params).ReshapeOrder.Value("CHANNEL_LAST")

    def function(x):
        x = _as_rank5(x)
        n, seq, batch = x.shape[:3]
        per_batch = x.movedim(2, 1)  # [N, B, S, C, H, W]: each batch item is reshaped on its own
        if len(target) == 3:
            seq_out, (channels, height, width) = seq, target
        else:
            seq_out, channels, height, width = target
        if channel_last:
            flat = per_batch.movedim(3, -1).reshape(n, batch, -1)  # [N, B, S·H·W·C]
            y = flat.reshape(n, batch, seq_out, height, width, channels).movedim(-1, 3)
        else:
            y = per_batch.reshape(n, batch, seq_out, channels, height, width)
        return y.movedim(1, 2)

    return Stateless(layer, function)


def _as_rank5(x: torch.Tensor) -> torch.Tensor:
    rank = example_rank(x)
    if rank >= 5:
        return x
    return x.reshape(x.shape[0], *([1] * (5 - rank)), *x.shape[1:])


def permute(layer, context):
    """Legacy permute: ``axis`` orders [Seq, C, H, W] of a rank-5 example; the Batch axis stays put."""
    order = [int(a) for a in layer.permute.axis] or [0, 1, 2, 3]
    rank5 = {0: 0, 1: 2, 2: 3, 3: 4}
    dims = [0] + [1 + rank5[order[0]], 2] + [1 + rank5[a] for a in order[1:]]

    def function(x):
        return _as_rank5(x).permute(*dims)

    return Stateless(layer, function)


def transpose(layer, context):
    axes = [int(a) for a in layer.transpose.axes]

    def function(x):
        rank = example_rank(x)
        return x.permute(0, *[tensor_axis(a, rank) for a in axes])

    return Stateless(layer, function)


def expand_dims(layer, context):
    axes = [int(a) for a in layer.expandDims.axes]

    def function(x):
        rank = example_rank(x) + len(axes)
        positions = sorted(a % rank for a in axes)
        shape = list(x.shape[1:])
        for position in positions:
            shape.insert(position, 1)
        return x.reshape(x.shape[0], *shape)

    return Stateless(layer, function)


def squeeze(layer, context):
    params = layer.squeeze
    axes = [int(a) for a in params.axes]

    def function(x):
        shape = list(x.shape[1:])
        rank = len(shape)
        if params.squeezeAll:
            kept = [d for d in shape if d != 1]
        else:
            dropped = {a % rank for a in axes}
            kept = [d for i, d in enumerate(shape) if i not in dropped]
        return x.reshape(x.shape[0], *(kept or [1]))

    return Stateless(layer, function)


def slice_legacy(layer, context):
    params = layer.slice
    dim = {0: -3, 1: -2, 2: -1}[params.axis]
    start, end, stride = int(params.startIndex), int(params.endIndex), int(params.stride) or 1

    def function(x):
        size = x.shape[dim]
        begin = start + size if start < 0 else start
        stop = end + size if end < 0 else end
        index = torch.arange(begin, min(stop, size), stride)
        return x.index_select(dim, index)

    return Stateless(layer, function)


def _strided_slice(x, begins, ends, strides, begin_masks, end_masks, squeeze_masks):
    """SliceStaticLayerParams on every axis: numpy's ``begin:end:stride`` (stride 1 when unset), a masked begin or
    end meaning the start or end of the axis, and a squeezed axis keeping only the element at its begin (its
    other masks and values ignored) and then removed."""
    def flag(flags, axis):
        return axis < len(flags) and bool(flags[axis])

    squeezed = []
    for axis in range(example_rank(x)):
        dim = axis + 1
        size = x.shape[dim]
        if flag(squeeze_masks, axis):
            position = int(begins[axis]) + size if int(begins[axis]) < 0 else int(begins[axis])
            if not 0 <= position < size:
                raise IndexError(f"begin {int(begins[axis])} is outside axis {axis} of size {size}")
            x = x.narrow(dim, position, 1)
            squeezed.append(dim)
            continue
        step = int(strides[axis]) if axis < len(strides) and strides[axis] else 1
        begin = None if flag(begin_masks, axis) else int(begins[axis])
        end = None if flag(end_masks, axis) else int(ends[axis])
        indices = range(*slice(begin, end, step).indices(size))
        if len(indices) != size or step != 1:
            x = x.index_select(dim, torch.as_tensor(list(indices), dtype=torch.long))
    if squeezed:
        shape = [d for i, d in enumerate(x.shape) if i not in squeezed]
        x = x.reshape(*shape) if len(shape) > 1 else x.reshape(x.shape[0], 1)
    return x


def slice_static(layer, context):
    params = layer.sliceStatic
    fields = (list(params.beginIds), list(params.endIds), list(params.strides), list(params.beginMasks),
              list(params.endMasks), list(params.squeezeMasks))
    return Stateless(layer, lambda x: _strided_slice(x, *fields))


def slice_dynamic(layer, context):
    """SliceDynamicLayerParams: sliceStatic whose begins (2nd input) and, when given, ends, strides, begin masks,
    end masks and squeeze masks (3rd to 7th inputs) are input values instead of parameters."""
    params = layer.sliceDynamic
    fields = [list(params.endIds), list(params.strides), list(params.beginMasks), list(params.endMasks),
              list(params.squeezeMasks)]
    names = ["ends", "strides", "begin masks", "end masks", "squeeze masks"]

    def function(x, begins, *given):
        values = [shared_integers(begins, "slice begins")]
        for position, default in enumerate(fields):
            values.append(shared_integers(given[position], f"slice {names[position]}") if position < len(given)
                          else default)
        return _strided_slice(x, *values)

    return Stateless(layer, function)


def stack(layer, context):
    axis = int(layer.stack.axis)

    def function(*xs):
        rank = example_rank(xs[0]) + 1
        return torch.stack(xs, dim=(axis % rank) + 1)

    return Stateless(layer, function)


def tile(layer, context):
    """TileLayerParams: ``reps`` (or the values of a second input) shorter than the rank get leading 1s."""
    fixed = [int(r) for r in layer.tile.reps]

    def function(x, given=None):
        reps = fixed if given is None else shared_integers(given, "repetitions")
        rank = example_rank(x)
        if not 1 <= len(reps) <= rank:
            raise ValueError(f"tile needs 1 to {rank} repetitions, got {len(reps)}")
        return x.repeat(1, *([1] * (rank - len(reps)) + reps))

    return Stateless(layer, function)


def rank_preserving_reshape(layer, context):
    target = [int(d) for d in layer.rankPreservingReshape.targetShape]

    def function(x):
        shape = [x.shape[i + 1] if d == 0 else d for i, d in enumerate(target)]
        return x.reshape(x.shape[0], *shape)

    return Stateless(layer, function)


def constant_pad(layer, context):
    params = layer.constantPad
    amounts = [int(a) for a in params.padAmounts]

    def function(x, pad_input=None):
        values = amounts if pad_input is None else shared_integers(pad_input, "padding amounts")
        shape = x.shape[1:]
        if params.padToGivenOutputSizeMode:
            values = _to_size(values, shape)
        pad = []
        for i in reversed(range(len(shape))):
            pad += [values[2 * i], values[2 * i + 1]]
        return torch.nn.functional.pad(x, pad, value=params.value)

    return Stateless(layer, function)


def _to_size(values, shape):
    """padToGivenOutputSizeMode: the given amount is the output size, padded before or after (whichever is set)."""
    result = []
    for i, size in enumerate(shape):
        before, after = values[2 * i], values[2 * i + 1]
        extra = max(0, max(before, after) - size)
        result += [extra, 0] if before else [0, extra]
    return result


def reverse(layer, context):
    flags = list(layer.reverse.reverseDim)

    def function(x):
        dims = [i + 1 for i, flag in enumerate(flags) if flag]
        return x.flip(dims) if dims else x

    return Stateless(layer, function)


def reverse_seq(layer, context):
    """ReverseSeqLayerParams: for each index ``b`` of ``batchAxis``, the first ``seq_lengths[b]`` elements along
    ``sequenceAxis`` in reverse order, the rest as they are."""
    params = layer.reverseSeq

    def function(x, lengths):
        rank = example_rank(x)
        batch_dim, sequence_dim = tensor_axis(int(params.batchAxis), rank), tensor_axis(int(params.sequenceAxis), rank)
        if batch_dim >= sequence_dim:
            raise ValueError("the batch axis must come before the sequence axis")
        if tuple(lengths.shape[1:]) != (x.shape[batch_dim],):
            raise ValueError(f"sequence lengths of shape {list(lengths.shape[1:])}, the batch axis has "
                             f"{x.shape[batch_dim]} entries")
        size = x.shape[sequence_dim]
        counts = lengths.round().long().reshape(
            x.shape[0], *[x.shape[batch_dim] if d == batch_dim else 1 for d in range(1, rank + 1)])
        if bool(((counts < 0) | (counts > size)).any()):
            raise ValueError(f"a sequence length is outside [0, {size}]")
        position = torch.arange(size).reshape(*[size if d == sequence_dim else 1 for d in range(rank + 1)])
        source = torch.where(position < counts, counts - 1 - position, position)
        return torch.gather(x, sequence_dim, source.expand_as(x))

    return Stateless(layer, function)


def reorganize_data(layer, context):
    params = layer.reorganizeData
    mode = type(params).ReorganizationType.Name(params.mode)
    block = int(params.blockSize)

    def function(x):
        lead, (c, h, w) = x.shape[:-3], x.shape[-3:]
        images = x.reshape(-1, c, h, w)
        if mode == "SPACE_TO_DEPTH":
            y = images.reshape(-1, c, h // block, block, w // block, block).permute(0, 3, 5, 1, 2, 4)
            y = y.reshape(-1, c * block * block, h // block, w // block)
        elif mode == "DEPTH_TO_SPACE":
            y = images.reshape(-1, block, block, c // (block * block), h, w).permute(0, 3, 4, 1, 5, 2)
            y = y.reshape(-1, c // (block * block), h * block, w * block)
        else:
            y = torch.nn.functional.pixel_shuffle(images, block)
        return y.reshape(*lead, *y.shape[1:])

    return Stateless(layer, function)


def slice_by_size(layer, context):
    size, axis = int(layer.sliceBySize.size), int(layer.sliceBySize.axis)

    def function(x, begin):
        dim = tensor_axis(axis, example_rank(x))
        start = shared_integers(begin, "begin indices")[0]
        return x.narrow(dim, start, size)

    return Stateless(layer, function)


def where_broadcastable(layer, context):
    from .base import align_ranks

    def function(condition, a, b):
        condition, a, b = align_ranks(condition, a, b)
        return torch.where(condition != 0, a, b)

    return Stateless(layer, function)


def fill_like(layer, context):
    value = layer.fillLike.value
    return Stateless(layer, lambda x: torch.full_like(x, value))


def fill_static(layer, context):
    value, shape = layer.fillStatic.value, [int(d) for d in layer.fillStatic.targetShape]
    return Stateless(layer, lambda batch_size: torch.full((batch_size, *shape), value))


def _broadcast_to(x, shape):
    """``x`` broadcast to ``shape``, its axes lined up from the right (leading 1s added to a lower rank)."""
    x = x.reshape(x.shape[0], *([1] * (len(shape) - example_rank(x))), *x.shape[1:])
    return x.expand(x.shape[0], *shape)


def fill_dynamic(layer, context):
    """FillDynamicLayerParams: ``value`` in the shape the input's values give."""
    value = layer.fillDynamic.value
    return Stateless(layer, lambda shape: torch.full((shape.shape[0], *shared_integers(shape, "target shapes")),
                                                     value, dtype=shape.dtype))


def _range(start: float, end: float, step: float, batch_size: int) -> torch.Tensor:
    """numpy.arange(start, end, step) (RangeStatic/RangeDynamicLayerParams): ``ceil((end - start) / step)``
    values ``start + i * step``, for every example."""
    if step == 0:
        raise ValueError("the range's step is 0")
    count = max(0, math.ceil((end - start) / step))
    values = start + torch.arange(count, dtype=torch.float64) * step
    return values.to(torch.float32).expand(batch_size, count)


def range_static(layer, context):
    params = layer.rangeStatic
    start, end, step = float(params.startValue), float(params.endValue), float(params.stepSizeValue)
    # A layer without inputs is called with the number of examples (see network.NetworkModule).
    return Stateless(layer, lambda batch_size: _range(start, end, step, batch_size))


def range_dynamic(layer, context):
    """RangeDynamicLayerParams: the end is the first input; the start and step are the second and third inputs
    when given, else the parameters."""
    params = layer.rangeDynamic

    def function(end, start=None, step=None):
        def value(blob, default, what):
            return default if blob is None else shared_values(blob, what)[0]

        return _range(value(start, float(params.startValue), "range starts"), shared_values(end, "range ends")[0],
                      value(step, float(params.stepSizeValue), "range steps"), end.shape[0])

    return Stateless(layer, function)


def get_shape(layer, context):
    """GetShapeLayerParams: the input's shape (without the example axis), a rank-1 tensor of the rank's length."""
    return Stateless(layer, lambda x: torch.tensor(x.shape[1:], dtype=x.dtype).expand(x.shape[0], -1))


def broadcast_to_static(layer, context):
    shape = [int(d) for d in layer.broadcastToStatic.targetShape]
    return Stateless(layer, lambda x: _broadcast_to(x, shape))


def broadcast_to_dynamic(layer, context):
    """BroadcastToDynamicLayerParams: broadcastToStatic with the shape the values of the second input."""
    return Stateless(layer, lambda x, shape: _broadcast_to(x, shared_integers(shape, "target shapes")))


def broadcast_to_like(layer, context):
    def function(x, like):
        from .base import align_ranks

        x, like = align_ranks(x, like)
        return x.expand_as(like)

    return Stateless(layer, function)


def sequence_repeat(layer, context):
    times = int(layer.sequenceRepeat.nRepetitions) or 1
    return Stateless(layer, lambda x: x.repeat(1, times, *([1] * (x.dim() - 2))))


def gather_along_axis(layer, context):
    axis = int(layer.gatherAlongAxis.axis)

    def function(data, index):
        dim = tensor_axis(axis, example_rank(data))
        index = index.round().long()
        index = torch.where(index < 0, index + data.shape[dim], index)
        return torch.gather(data, dim, index)

    return Stateless(layer, function)


def sliding_windows(layer, context):
    """SlidingWindowsLayerParams: the windows of ``windowSize`` every ``step`` along ``axis``, as a new axis of
    M = (L - windowSize) / step + 1 windows followed by one of the window's values."""
    params = layer.slidingWindows
    axis, size, step = int(params.axis), int(params.windowSize), int(params.step) or 1

    def function(x):
        dim = tensor_axis(axis, example_rank(x))
        return x.unfold(dim, size, step).movedim(-1, dim + 1)  # unfold puts the window last

    return Stateless(layer, function)


# Layer kind → translator, for ``engine.layers.LAYER_TRANSLATORS``.
TRANSLATORS: dict[str, Translator] = {
    "copy": copy,
    "concat": concat,
    "concatND": concat_nd,
    "split": split,
    "splitND": split_nd,
    "flatten": flatten,
    "flattenTo2D": flatten_to_2d,
    "reshapeStatic": reshape_static,
    "reshapeLike": reshape_like,
    "reshape": reshape,
    "permute": permute,
    "transpose": transpose,
    "expandDims": expand_dims,
    "squeeze": squeeze,
    "slice": slice_legacy,
    "sliceStatic": slice_static,
    "stack": stack,
    "tile": tile,
    "rankPreservingReshape": rank_preserving_reshape,
    "constantPad": constant_pad,
    "reverse": reverse,
    "reorganizeData": reorganize_data,
    "sliceBySize": slice_by_size,
    "whereBroadcastable": where_broadcastable,
    "fillLike": fill_like,
    "fillStatic": fill_static,
    "broadcastToStatic": broadcast_to_static,
    "broadcastToLike": broadcast_to_like,
    "sequenceRepeat": sequence_repeat,
    "gatherAlongAxis": gather_along_axis,
    "sliceDynamic": slice_dynamic,
    "reshapeDynamic": reshape_dynamic,
    "fillDynamic": fill_dynamic,
    "broadcastToDynamic": broadcast_to_dynamic,
    "rangeStatic": range_static,
    "rangeDynamic": range_dynamic,
    "getShape": get_shape,
    "reverseSeq": reverse_seq,
    "slidingWindows": sliding_windows,
}
