"""Core ML's shape inference for iOS 11/12-style networks (the rank-5 ``NeuralNetworkShaper``), ported exactly.

Upstream: mlmodel/src/Validation/NeuralNetwork/NeuralNetworkShapes.cpp and mlmodel/src/LayerShapeConstraints.cpp.

Core ML runs it at the end of validateNeuralNetworkTopLevel for networks *without* N-D array interpretation.
Every blob gets a range for each of its five axes (sequence, batch, channel, height, width); each layer
intersects the ranges of its inputs and outputs, forwards then backwards, until every blob has been reached from
every model input. A contradiction (an empty intersection, a fixed value outside a range) makes the shaper throw.
Core ML's validator then returns a result that still counts as *valid* ("potentially invalid neural network
shapes") but skips the updatable-model checks, so the only outcome is a warning plus that skip.

The arithmetic mirrors the C++ overloads: ``size_t`` values wrap modulo 2^64, subtracting below zero clamps to 0,
``int`` arguments may be negative, and an unbounded value is ``None``.
"""

from __future__ import annotations

import copy

from ..coreml import NETWORK_KINDS, c_div, int32
from .layers import nd_array_interpretation

_MASK = (1 << 64) - 1
_SIZE_MAX = _MASK


class ShapeError(Exception):
    """The shaper found contradictory constraints (upstream: a std::runtime_error)."""


def _size(value: int) -> int:
    return value & _MASK


def _shaper_div(a: int, b: int) -> int:
    """C++ division; where C++ would divide by zero the shaper fails (Core ML would crash or throw)."""
    if b == 0:
        raise ShapeError("integer division by zero")
    return c_div(a, b)


class Value:
    """RangeValue: a size_t or unbounded (``val is None``)."""

    __slots__ = ("val",)

    def __init__(self, val: int | None = None):
        self.val = None if val is None else _size(val)

    @property
    def unbound(self) -> bool:
        return self.val is None

    def value(self) -> int:
        if self.val is None:
            raise ShapeError("attempting to access an unbound value")
        return self.val

    def __repr__(self) -> str:
        return "inf" if self.val is None else str(self.val)

    # size_t arguments
    def add(self, other: int) -> "Value":
        return Value() if self.unbound else Value(self.val + other)

    def sub(self, other: int) -> "Value":
        if self.unbound:
            return Value()
        other = _size(other)
        return Value(0) if other > self.val else Value(self.val - other)

    def mul(self, other: int) -> "Value":
        return Value() if self.unbound else Value(self.val * other)

    def div(self, other: int) -> "Value":
        if self.unbound:
            return Value()
        other = _size(other)
        if other == 0:
            raise ShapeError(f"dividing range {self} by 0")
        return Value(self.val // other)

    def div_round_up(self, other: int) -> "Value":
        other = _size(other)
        if self.unbound or other == 0:
            return Value()
        return Value(0) if self.val == 0 else Value((self.val - 1) // other + 1)

    # int arguments
    def add_int(self, other: int) -> "Value":
        other = int32(other)
        return self.sub(-other) if other < 0 else self.add(other)

    def sub_int(self, other: int) -> "Value":
        other = int32(other)
        if self.unbound:
            return Value()
        return self.add(-other) if other < 0 else self.sub(other)

    # RangeValue arguments
    def add_value(self, other: "Value") -> "Value":
        return Value() if other.unbound else self.add(other.val)

    def mul_value(self, other: "Value") -> "Value":
        return Value() if other.unbound else self.mul(other.val)

    # comparisons with another Value (an unbound value is above every bound one)
    def le(self, other: "Value") -> bool:
        if other.unbound:
            return True
        return False if self.unbound else self.val <= other.val

    def ge(self, other: "Value") -> bool:
        if self.unbound:
            return True
        return False if other.unbound else self.val >= other.val

    def gt(self, other: "Value") -> bool:
        if self.unbound:
            return True
        return False if other.unbound else self.val > other.val


class Range:
    """ShapeRange: [minimum, maximum] with an optionally unbounded maximum. Treated as immutable."""

    __slots__ = ("minimum", "maximum")

    def __init__(self, minimum: Value | None = None, maximum: Value | None = None):
        self.minimum = minimum if minimum is not None else Value(0)
        self.maximum = maximum if maximum is not None else Value()

    @classmethod
    def bounded(cls, low: int, high: int) -> "Range":
        """ShapeRange(size_t, size_t)."""
        low, high = _size(low), _size(high)
        if low > high:
            raise ShapeError(f"constructing invalid range [{low}, {high}]")
        return cls(Value(low), Value(high))

    @classmethod
    def at_least(cls, low: int) -> "Range":
        """ShapeRange(size_t): [low, inf)."""
        return cls(Value(low), Value())

    @classmethod
    def of_values(cls, low: Value, high: Value) -> "Range":
        """ShapeRange(const RangeValue&, const RangeValue&)."""
        if low.gt(high) or low.unbound:
            raise ShapeError(f"constructing invalid range [{low}, {high}]")
        return cls(low, high)

    @classmethod
    def of_size_range(cls, size_range) -> "Range":
        upper = size_range.upperBound
        return cls(Value(size_range.lowerBound), Value() if upper < 0 else Value(upper))

    def __repr__(self) -> str:
        return f"[{self.minimum}, {self.maximum}]"

    def _contains(self, value: Value) -> bool:
        return self.minimum.le(value) and self.maximum.ge(value)

    def with_lower(self, value: Value) -> "Range":
        if not self._contains(value):
            raise ShapeError(f"invalid lower bound {value} for range {self}")
        return Range(value, self.maximum)

    def with_upper(self, value: Value) -> "Range":
        if not self._contains(value):
            raise ShapeError(f"invalid upper bound {value} for range {self}")
        return Range(self.minimum, value)

    def with_value(self, value: int) -> "Range":
        fixed = Value(value)
        if not self._contains(fixed):
            raise ShapeError(f"invalid value {fixed.val} for range {self}")
        return Range(fixed, fixed)

    @staticmethod
    def _built(low: Value, high: Value) -> "Range":
        """The upstream idiom ``out; out.setLower(low); out.setUpper(high)``."""
        return Range().with_lower(low).with_upper(high)

    def plus(self, value: int) -> "Range":
        return self._built(self.minimum.add(value), self.maximum.add(value))

    def minus(self, value: int) -> "Range":
        return self._built(self.minimum.sub(value), self.maximum.sub(value))

    def times(self, value: int) -> "Range":
        return self._built(self.minimum.mul(value), self.maximum.mul(value))

    def divided(self, value: int) -> "Range":
        return self._built(self.minimum.div(value), self.maximum.div(value))

    def divided_round_up(self, value: int) -> "Range":
        return self._built(self.minimum.div_round_up(value), self.maximum.div_round_up(value))

    def plus_int(self, value: int) -> "Range":
        return self._built(self.minimum.add_int(value), self.maximum.add_int(value))

    def minus_int(self, value: int) -> "Range":
        return self._built(self.minimum.sub_int(value), self.maximum.sub_int(value))

    def divided_int(self, value: int) -> "Range":
        value = int32(value)
        if value <= 0:
            raise ShapeError(f"dividing range {self} by negative or zero value {value}")
        return self.divided(value)

    def plus_range(self, other: "Range") -> "Range":
        return self._built(self.minimum.add_value(other.minimum), self.maximum.add_value(other.maximum))

    def times_range(self, other: "Range") -> "Range":
        return self._built(self.minimum.mul_value(other.minimum), self.maximum.mul_value(other.maximum))

    def intersect(self, other: "Range") -> "Range":
        out = Range()
        out = out.with_lower(other.minimum if self.minimum.le(other.minimum) else self.minimum)
        out = out.with_upper(other.maximum if self.maximum.ge(other.maximum) else self.maximum)
        if self.minimum.gt(self.maximum) or self.minimum.unbound:
            raise ShapeError(f"invalid intersection between {self} and {other}")
        return out

    def unify(self, other: "Range") -> "Range":
        out = Range()
        out = out.with_lower(self.minimum if self.minimum.le(other.minimum) else other.minimum)
        return out.with_upper(self.maximum if self.maximum.ge(other.maximum) else other.maximum)

    def minimum_value(self) -> int:
        return self.minimum.value()

    def is_fixed(self) -> bool:
        return not self.maximum.unbound and self.maximum.val == self.minimum.value()


_AXES = ("sequence", "batch", "channel", "height", "width")


class Constraint:
    """ShapeConstraint: the five axis ranges of one blob."""

    def __init__(self, name: str = ""):
        self.name = name
        self.ranges = {axis: Range() for axis in _AXES}

    def __getitem__(self, axis: str) -> Range:
        return self.ranges[axis]

    def update(self, axis: str, other: Range) -> None:
        try:
            self.ranges[axis] = self.ranges[axis].intersect(other)
        except ShapeError as error:
            raise ShapeError(f"invalid {axis} range in blob {self.name}: {error}") from None

    def intersect(self, axis: str, other: Range) -> None:
        """A bare ``_range = _range.intersect(...)`` (copyFrom, upper/lowerBound*) without the blob name."""
        self.ranges[axis] = self.ranges[axis].intersect(other)

    def copy_from(self, other: "Constraint") -> None:
        for axis in _AXES:
            self.intersect(axis, other[axis])

    def set(self, axis: str, value: int) -> None:
        try:
            self.ranges[axis] = self.ranges[axis].with_value(value)
        except ShapeError:
            raise ShapeError(f"the {axis} of blob '{self.name}' must be {_size(value)} but is already "
                             f"{self.ranges[axis]}") from None

    def upper_bound(self, axis: str, value: Value) -> None:
        """upperBound*(const RangeValue&): only a bound value constrains."""
        if not value.unbound:
            self.intersect(axis, Range.of_values(Value(0), value))

    def lower_bound(self, axis: str, value: int) -> None:
        self.intersect(axis, Range.at_least(value))

    def minimum(self, axis: str) -> int:
        return self.ranges[axis].minimum_value()

    def has_fixed_chw(self) -> bool:
        return all(self.ranges[axis].is_fixed() for axis in ("channel", "height", "width"))

    def constrain_to(self, feature_type) -> None:
        """updateConstraint: a model input's image or multi-array description."""
        kind = feature_type.WhichOneof("Type")
        if kind == "imageType":
            self._constrain_to_image(feature_type.imageType)
        elif kind == "multiArrayType":
            self._constrain_to_array(feature_type.multiArrayType)
        else:
            raise ShapeError(f"feature {self.name} is neither a multi-array nor an image")

    def _constrain_to_image(self, image) -> None:
        # GRAYSCALE (10) and GRAYSCALE_FLOAT16 (40) have one channel.
        self.set("channel", 1 if image.colorSpace in (10, 40) else 3)
        flexibility = image.WhichOneof("SizeFlexibility")
        if flexibility == "enumeratedSizes":
            sizes = list(image.enumeratedSizes.sizes)
            widths = [_size(size.width) for size in sizes]
            heights = [_size(size.height) for size in sizes]
            self.update("width", Range.bounded(min(widths, default=_SIZE_MAX), max(widths, default=0)))
            self.update("height", Range.bounded(min(heights, default=_SIZE_MAX), max(heights, default=0)))
        elif flexibility == "imageSizeRange":
            self.update("width", Range.of_size_range(image.imageSizeRange.widthRange))
            self.update("height", Range.of_size_range(image.imageSizeRange.heightRange))
        else:
            self.set("height", _size(image.height))
            self.set("width", _size(image.width))

    def _constrain_to_array(self, array) -> None:
        ranges = []
        flexibility = array.WhichOneof("ShapeFlexibility")
        if flexibility == "enumeratedShapes":
            shapes = [list(shape.shape) for shape in array.enumeratedShapes.shapes]
            for dimension in range(max((len(shape) for shape in shapes), default=0)):
                sizes = [_size(shape[dimension]) for shape in shapes if dimension < len(shape)]
                ranges.append(Range.bounded(min(sizes, default=_SIZE_MAX), max(sizes, default=0)))
        elif flexibility == "shapeRange":
            ranges = [Range.of_size_range(size_range) for size_range in array.shapeRange.sizeRanges]
        if len(ranges) == 1:
            self.update("channel", ranges[0])
        elif len(ranges) == 3:
            for axis, axis_range in zip(("channel", "height", "width"), ranges):
                self.update(axis, axis_range)
        elif not ranges:
            shape = list(array.shape)
            if not shape:
                raise ShapeError(f"feature {self.name} has no shape")
            self.set("channel", _size(shape[0]))
            if len(shape) == 3:
                self.set("height", _size(shape[1]))
                self.set("width", _size(shape[2]))
            else:
                self.set("height", 1)
                self.set("width", 1)
        else:
            raise ShapeError(f"feature {self.name} has an invalid array shape constraint ({len(ranges)} dimensions)")


def shape_inference_failure(spec) -> str | None:
    """Why Core ML's shape inference fails for this network, or None (also for N-D networks, where it never runs)."""
    kind = spec.WhichOneof("Type")
    if kind not in NETWORK_KINDS:
        return None
    network = getattr(spec, kind)
    if nd_array_interpretation(network):
        return None
    try:
        Shaper(spec.description, network.layers)
    except ShapeError as error:
        return str(error)
    return None


class Shaper:
    """NeuralNetworkShaper with input and output constraints; raises ShapeError where upstream throws."""

    def __init__(self, description, layers):
        self.shapes: dict[str, Constraint] = {}
        self.colors: dict[str, set[int]] = {}
        inputs = list(description.input)
        for position, feature in enumerate(inputs):
            constraint = self.shape(feature.name)
            self.colors.setdefault(feature.name, set()).add(position)
            try:
                constraint.constrain_to(feature.type)
            except ShapeError as error:
                raise ShapeError(f"model input '{feature.name}': {error}") from None
        layers = list(layers)
        while True:
            before = {blob: set(colors) for blob, colors in self.colors.items()}
            for layer in layers:
                self._pass_colors(layer.input, layer.output)
                self._process(layer)
            for layer in reversed(layers):
                self._pass_colors(layer.output, layer.input)
                self._process(layer)
            done = all(len(colors) == len(inputs) for colors in self.colors.values())
            if done or before == self.colors:
                break
        self._constrain_outputs(description)

    def shape(self, blob: str) -> Constraint:
        """``blobShapes[blob]``: creates an unconstrained entry for an unknown blob."""
        return self.shapes.setdefault(blob, Constraint(blob))

    # Upstream names a blob's constraint only when a layer writes it; here every constraint carries its name
    # (it only appears in messages).
    output = shape

    def _pass_colors(self, sources, targets) -> None:
        for source in sources:
            colors = self.colors.setdefault(source, set())
            for target in targets:
                self.colors.setdefault(target, set()).update(colors)

    def _constrain_outputs(self, description) -> None:
        special = (description.predictedProbabilitiesName, description.predictedFeatureName)
        for feature in description.output:
            if feature.name in special or feature.name not in self.shapes:
                continue
            try:
                self._constrain_output(self.shapes[feature.name], feature)
            except ShapeError as error:
                raise ShapeError(f"model output '{feature.name}': {error}") from None

    @staticmethod
    def _constrain_output(constraint: Constraint, feature) -> None:
        if feature.type.WhichOneof("Type") == "imageType":
            image = feature.type.imageType
            constraint.set("channel", 1 if image.colorSpace in (10, 40) else 3)
            constraint.set("height", _size(image.height))
            constraint.set("width", _size(image.width))
            return
        shape = list(feature.type.multiArrayType.shape)
        if len(shape) == 3:
            for axis, size in zip(("channel", "height", "width"), shape):
                constraint.set(axis, _size(size))
        elif len(shape) == 1:
            constraint.set("channel", _size(shape[0]))
            constraint.set("height", 1)
            constraint.set("width", 1)

    def _process(self, layer) -> None:
        kind = layer.WhichOneof("layer")
        if kind is None:
            raise ShapeError("layer type not found")
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise ShapeError(f"shape inference not implemented for layer type {kind}")
        try:
            handler(self, layer)
        except ShapeError as error:
            raise ShapeError(f"at {kind} layer '{layer.name}': {error}") from None


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


def _convolution(shaper: Shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target, intersect_first=False)
    conv = layer.convolution
    groups = int32(conv.nGroups) if conv.nGroups else 1
    channels = int32(conv.kernelChannels) if conv.isDeconvolution else int32(int32(conv.kernelChannels) * groups)
    source.set("channel", _size(channels))
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
    target.set("channel", _size(conv.outputChannels))
    if conv.isDeconvolution and len(conv.outputShape) == 2:
        target.set("height", _size(conv.outputShape[0]))
        target.set("width", _size(conv.outputShape[1]))
        return
    padding = conv.WhichOneof("ConvolutionPaddingType")
    if padding is None:
        raise ShapeError("convolution padding type not set")
    top = bottom = left = right = 0
    if padding == "valid" and len(conv.valid.paddingAmounts.borderAmounts) == 2:
        amounts = conv.valid.paddingAmounts.borderAmounts
        top, bottom = int32(amounts[0].startEdgeSize), int32(amounts[0].endEdgeSize)
        left, right = int32(amounts[1].startEdgeSize), int32(amounts[1].endEdgeSize)
    # (axis, stride, dilated kernel, the two paddings in the order upstream adds them, then subtracts them)
    axes = (("height", stride_h, dilated_h, (bottom, top), (top, bottom)),
            ("width", stride_w, dilated_w, (left, right), (right, left)))
    if padding == "valid" and conv.isDeconvolution:
        for axis, stride, dilated, (first, second), (third, fourth) in axes:
            lower = _shaper_div(int32(int32(target.minimum(axis)) + first + second - dilated), stride) + 1
            upper = target[axis].maximum.add_int(first).add_int(second).sub_int(dilated).div(_size(stride)).add_int(1)
            if lower > 0:
                source.lower_bound(axis, lower)
            source.upper_bound(axis, upper)
            target.update(axis, source[axis].minus_int(1).times(_size(stride)).plus_int(dilated)
                          .minus_int(third).minus_int(fourth))
    elif padding == "valid":
        for axis, stride, dilated, (first, second), _ in axes:
            reach = int32(dilated - first - second)
            if reach > 0:
                out_min = target.minimum(axis)
                lower = 0 if out_min == 0 else out_min - 1
                source.lower_bound(axis, _size(lower * _size(stride) + _size(reach)))
                upper = target[axis].maximum.sub_int(1).mul(_size(stride)).add(_size(reach))
                in_max = source[axis].maximum
                # Upstream's parity test parses as (max + ((size_t)(pads - kernel) % 2)) != 0.
                if not in_max.unbound and _size(in_max.val + _size(first + second - dilated) % 2) != 0:
                    upper = upper.add_int(1)
                source.upper_bound(axis, upper)
            target.update(axis, source[axis].plus_int(first + second - dilated).divided_int(stride).plus_int(1))
    elif conv.isDeconvolution:
        for axis, stride, *_ in axes:
            target.update(axis, source[axis].times(_size(stride)))
    else:
        for axis, stride, *_ in axes:
            target.update(axis, source[axis].minus_int(1).divided(_size(stride)).plus_int(1))
            source.lower_bound(axis, target.minimum(axis))
            source.upper_bound(axis, target[axis].maximum.mul(_size(stride)))


def _pooling(shaper: Shaper, layer) -> None:
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
                source.lower_bound(axis, _size(lower * _size(stride) + _size(reach)))
            target.update(axis, source[axis].plus_int(start + end - kernel).divided(_size(stride)).plus_int(1))
    elif padding == "same":
        for axis, stride in (("height", stride_h), ("width", stride_w)):
            target.update(axis, source[axis].minus_int(1).divided(_size(stride)).plus_int(1))
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
            target.update(axis, source[axis].plus_int(2 * pad - kernel).divided_round_up(_size(stride))
                          .plus_int(1).plus_int(extra))
            if int32(kernel - 2 * pad) > 0:
                source.lower_bound("height", _size(target.minimum(axis) - 1 + _size(kernel - 2 * pad)))
    else:
        raise ShapeError("pooling padding type not set")


def _unchanged(shaper: Shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    target.copy_from(source)
    source.copy_from(target)


def _vector_sizes(shaper: Shaper, layer, in_channels: int, out_channels: int, *, intersect_first: bool) -> None:
    """innerProduct and embedding: the input is [in_channels, 1, 1] and the output [out_channels, 1, 1]."""
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target, intersect_first=intersect_first)
    for constraint, channels in ((source, in_channels), (target, out_channels)):
        constraint.set("channel", channels)
        constraint.set("height", 1)
        constraint.set("width", 1)


def _inner_product(shaper: Shaper, layer) -> None:
    params = layer.innerProduct
    _vector_sizes(shaper, layer, params.inputChannels, params.outputChannels, intersect_first=True)


def _embedding(shaper: Shaper, layer) -> None:
    _vector_sizes(shaper, layer, 1, layer.embedding.outputChannels, intersect_first=False)


def _crop(shaper: Shaper, layer) -> None:
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
        source.lower_bound("height", _size(top + bottom + 1))
        source.lower_bound("width", _size(right + left + 1))
    else:
        target.update("channel", source["channel"])
        reference = shaper.shape(layer.input[1])
        target.update("height", reference["height"])
        target.update("width", reference["width"])


def _padding(shaper: Shaper, layer) -> None:
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


def _upsample(shaper: Shaper, layer) -> None:
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


def _broadcast(shaper: Shaper, layer) -> None:
    first = shaper.shape(layer.input[0])
    merged = {axis: first[axis] for axis in _AXES}
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


def _dot(shaper: Shaper, layer) -> None:
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


def _reduce(shaper: Shaper, layer) -> None:
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


def _load_constant(shaper: Shaper, layer) -> None:
    target = shaper.output(layer.output[0])
    shape = layer.loadConstant.shape
    target.set("sequence", 1)
    target.set("batch", 1)
    for position, axis in enumerate(("channel", "height", "width")):
        target.set(axis, _size(_at(shape, position)))


def _reshape(shaper: Shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    shape = layer.reshape.targetShape
    target.update("batch", source["batch"])
    if len(shape) == 3:
        target.update("sequence", target["sequence"].intersect(source["sequence"]))
        sizes = list(shape)
    else:
        # Upstream passes a size_t where a range is expected: it becomes the range [size, inf).
        target.update("sequence", Range.at_least(_size(_at(shape, 0))))
        sizes = [_at(shape, position) for position in (1, 2, 3)]
    for axis, size in zip(("channel", "height", "width"), sizes):
        target.set(axis, _size(size))


def _flatten(shaper: Shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target, intersect_first=False)
    target.update("channel", source["channel"].times_range(source["height"]).times_range(source["width"]))
    target.set("height", 1)
    target.set("width", 1)


def _permute(shaper: Shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    ranges = [source["sequence"], source["channel"], source["height"], source["width"]]
    axes = [_size(_at(layer.permute.axis, position)) for position in range(4)]
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


def _concat(shaper: Shaper, layer) -> None:
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


def _split(shaper: Shaper, layer) -> None:
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
    source.update("channel", first["channel"].times(_size(parts)))
    source.update("height", first["height"])
    source.update("width", first["width"])


def _sequence_repeat(shaper: Shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    target.update("sequence", source["sequence"].times(layer.sequenceRepeat.nRepetitions))
    for axis in ("batch", "channel", "height", "width"):
        target.update(axis, source[axis])
    for axis in ("batch", "channel", "height", "width"):
        source.update(axis, target[axis])


def _reorganize_data(shaper: Shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target, intersect_first=False)
    block = _size(layer.reorganizeData.blockSize)
    square = _size(block * block)
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


def _slice(shaper: Shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    _share_sequence_batch(source, target, intersect_first=False)
    params = layer.slice
    start, end, stride = int32(params.startIndex), int32(params.endIndex), int32(params.stride)
    sliced = _SLICE_AXES.get(params.axis)
    fixed_size = None
    if start >= 0 and end > 0:
        fixed_size, in_lower = _shaper_div(int32(end - 1 - start), stride) + 1, end
    elif start < 0 and end <= 0:
        fixed_size, in_lower = _shaper_div(int32(-start - 1 + end), stride) + 1, -start
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
            target.set(axis, _size(fixed_size))
        else:
            target.update(axis, sliced_range)
    for axis in ("channel", "height", "width"):
        if axis == sliced:
            source.lower_bound(axis, _size(in_lower))
        else:
            source.update(axis, target[axis])


def _state_vector(constraint: Constraint, size: int) -> None:
    constraint.set("sequence", 1)
    constraint.set("channel", size)
    constraint.set("height", 1)
    constraint.set("width", 1)


def _recurrent(shaper: Shaper, layer, in_size: int, out_size: int, sequence_output: bool,
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


def _simple_recurrent(shaper: Shaper, layer) -> None:
    params = layer.simpleRecurrent
    _recurrent(shaper, layer, params.inputVectorSize, params.outputVectorSize, params.sequenceOutput, ((1,),))


def _gru(shaper: Shaper, layer) -> None:
    params = layer.gru
    groups = ((1,),) if len(layer.input) >= 2 else ()
    _recurrent(shaper, layer, params.inputVectorSize, params.outputVectorSize, params.sequenceOutput, groups)


def _unidirectional_lstm(shaper: Shaper, layer) -> None:
    params = layer.uniDirectionalLSTM
    groups = ((1, 2),) if len(layer.input) >= 3 else ()
    _recurrent(shaper, layer, params.inputVectorSize, params.outputVectorSize, params.params.sequenceOutput,
               groups)


def _bidirectional_lstm(shaper: Shaper, layer) -> None:
    params = layer.biDirectionalLSTM
    shaper.shape(layer.input[0]).upper_bound("sequence", Value(10000))
    groups = ((1, 2), (3, 4)) if len(layer.input) >= 5 else ()
    _recurrent(shaper, layer, params.inputVectorSize, params.outputVectorSize, params.params.sequenceOutput, groups,
               out_channels=_size(2 * params.outputVectorSize))


def _custom(shaper: Shaper, layer) -> None:
    for blob in layer.output:
        shaper.output(blob)


def _target_size(params) -> tuple[int, int]:
    sizes = list(params.targetSize)
    if len(sizes) == 2:
        return sizes[0] or 1, sizes[1] or 1
    return 1, 1


def _resize_bilinear(shaper: Shaper, layer) -> None:
    source = shaper.shape(layer.input[0])
    target = shaper.output(layer.output[0])
    for axis in ("sequence", "batch", "channel"):
        target.update(axis, target[axis].intersect(source[axis]))
    height, width = _target_size(layer.resizeBilinear)
    target.set("height", height)
    target.set("width", width)
    for axis in ("sequence", "batch", "channel"):
        source.update(axis, source[axis].intersect(target[axis]))


def _crop_resize(shaper: Shaper, layer) -> None:
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


_HANDLERS = {
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
