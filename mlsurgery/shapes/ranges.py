"""The value, range and blob constraint types of Core ML's rank-5 shape inference (NeuralNetworkShapes.cpp).

The arithmetic mirrors the C++ overloads: ``size_t`` values wrap modulo 2^64, subtracting below zero clamps to 0,
``int`` arguments may be negative, and an unbounded value is ``None``.
"""

from __future__ import annotations

import functools

from ..coreml import c_div, int32

_MASK = (1 << 64) - 1
_SIZE_MAX = _MASK


class ShapeError(Exception):
    """The shaper found contradictory constraints (upstream: a std::runtime_error)."""


def size_t(value: int) -> int:
    return value & _MASK


def shaper_div(a: int, b: int) -> int:
    """C++ division; where C++ would divide by zero the shaper fails (Core ML would crash or throw)."""
    if b == 0:
        raise ShapeError("integer division by zero")
    return c_div(a, b)


class Value:
    """RangeValue: a size_t or unbounded (``val is None``)."""

    __slots__ = ("val",)

    def __init__(self, val: int | None = None):
        self.val = None if val is None else val & _MASK

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
        other = size_t(other)
        return Value(0) if other > self.val else Value(self.val - other)

    def mul(self, other: int) -> "Value":
        return Value() if self.unbound else Value(self.val * other)

    def div(self, other: int) -> "Value":
        if self.unbound:
            return Value()
        other = size_t(other)
        if other == 0:
            raise ShapeError(f"dividing range {self} by 0")
        return Value(self.val // other)

    def div_round_up(self, other: int) -> "Value":
        other = size_t(other)
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
        return _le(self.val, other.val)

    def ge(self, other: "Value") -> bool:
        return _ge(self.val, other.val)

    def gt(self, other: "Value") -> bool:
        return _gt(self.val, other.val)


# The comparisons on raw values (None: unbound), for the hot paths of Range and Constraint.
def _le(a: int | None, b: int | None) -> bool:
    return True if b is None else (a is not None and a <= b)


def _ge(a: int | None, b: int | None) -> bool:
    return True if a is None else (b is not None and a >= b)


def _gt(a: int | None, b: int | None) -> bool:
    return True if a is None else (b is not None and a > b)


# Values are never modified, so the common ones are shared (validating a deep network builds millions of them).
_ZERO, _UNBOUND = Value(0), Value()


class Range:
    """ShapeRange: [minimum, maximum] with an optionally unbounded maximum. Treated as immutable."""

    __slots__ = ("minimum", "maximum", "valid")

    def __init__(self, minimum: Value | None = None, maximum: Value | None = None):
        self.minimum = minimum if minimum is not None else _ZERO
        self.maximum = maximum if maximum is not None else _UNBOUND
        # Whether ``self.intersect(self)`` returns it unchanged rather than raising (bound, not inverted).
        low, high = self.minimum.val, self.maximum.val
        self.valid = low is not None and (high is None or low <= high)

    @classmethod
    def bounded(cls, low: int, high: int) -> "Range":
        """ShapeRange(size_t, size_t)."""
        low, high = size_t(low), size_t(high)
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
        return _le(self.minimum.val, value.val) and _ge(self.maximum.val, value.val)

    def with_lower(self, value: Value) -> "Range":
        if not self._contains(value):
            raise ShapeError(f"invalid lower bound {value} for range {self}")
        return Range(value, self.maximum)

    def with_upper(self, value: Value) -> "Range":
        if not self._contains(value):
            raise ShapeError(f"invalid upper bound {value} for range {self}")
        return Range(self.minimum, value)

    def with_value(self, value: int) -> "Range":
        fixed = fixed_range(value)
        if not self._contains(fixed.minimum):
            raise ShapeError(f"invalid value {fixed.minimum.val} for range {self}")
        return fixed

    @staticmethod
    def _built(low: Value, high: Value) -> "Range":
        """The upstream idiom ``out; out.setLower(low); out.setUpper(high)``."""
        # Without the two intermediate ranges: [0, inf) contains every lower bound, so only setUpper can fail,
        # on [low, inf) when high is bound and low is unbound or above it.
        if high.val is not None and (low.val is None or low.val > high.val):
            raise ShapeError(f"invalid upper bound {high} for range [{low}, inf]")
        return Range(low, high)

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
        # Upstream builds [0, inf), raises its lower bound to the larger minimum (which [0, inf) always
        # contains), then lowers its upper bound to the smaller maximum; inlined, with the same failures.
        # (_le, _ge and _gt written out: this runs hundreds of thousands of times on a deep network.)
        own_low, own_high = self.minimum.val, self.maximum.val
        other_low, other_high = other.minimum.val, other.maximum.val
        low = other.minimum if other_low is None or (own_low is not None and own_low <= other_low) else self.minimum
        high = other.maximum if own_high is None or (other_high is not None and own_high >= other_high) else (
            self.maximum)
        if not (high.val is None or (low.val is not None and low.val <= high.val)):
            raise ShapeError(f"invalid upper bound {high} for range [{low}, inf]")
        if own_low is None or (own_high is not None and own_low > own_high):
            raise ShapeError(f"invalid intersection between {self} and {other}")
        if low is self.minimum and high is self.maximum:
            return self
        if low is other.minimum and high is other.maximum:
            return other
        return Range(low, high)

    def unify(self, other: "Range") -> "Range":
        return self._built(self.minimum if self.minimum.le(other.minimum) else other.minimum,
                           self.maximum if self.maximum.ge(other.maximum) else other.maximum)

    def minimum_value(self) -> int:
        return self.minimum.value()

    def is_fixed(self) -> bool:
        return not self.maximum.unbound and self.maximum.val == self.minimum.value()


@functools.lru_cache(maxsize=4096)
def fixed_range(value: int) -> Range:
    """[value, value], shared: a network fixes the same few sizes on thousands of blobs, and equal ranges that are
    the same object let the intersections below return at once."""
    fixed = Value(value)
    return Range(fixed, fixed)


AXES = ("sequence", "batch", "channel", "height", "width")
_ANY = Range()


class Constraint:
    """ShapeConstraint: the five axis ranges of one blob."""

    def __init__(self, name: str = ""):
        self.name = name
        self.ranges = dict.fromkeys(AXES, _ANY)  # ranges are never modified, only replaced
        # Grows whenever a range is replaced by another object, so a caller can tell that nothing changed since
        # it last looked (the shaper skips a layer whose blobs are as it left them: see Shaper).
        self.version = 0

    def __getitem__(self, axis: str) -> Range:
        return self.ranges[axis]

    def update(self, axis: str, other: Range) -> None:
        current = self.ranges[axis]
        if (current is other or current is _ANY) and other.valid:
            new = other  # as in copy_from: the intersection is ``other`` itself
        else:
            try:
                new = current.intersect(other)
            except ShapeError as error:
                raise ShapeError(f"invalid {axis} range in blob {self.name}: {error}") from None
        if new is not current:
            self.ranges[axis] = new
            self.version += 1

    def intersect(self, axis: str, other: Range) -> None:
        """A bare ``_range = _range.intersect(...)`` (copyFrom, upper/lowerBound*) without the blob name."""
        current = self.ranges[axis]
        new = current.intersect(other)
        if new is not current:
            self.ranges[axis] = new
            self.version += 1

    def copy_from(self, other: "Constraint") -> None:
        ranges = self.ranges
        for axis, theirs in other.ranges.items():
            mine = ranges[axis]
            if mine is theirs and theirs.valid:
                continue  # a valid range intersected with itself is itself
            # [0, inf) intersected with a valid range is that range (the first step of every blob a layer writes).
            new = theirs if mine is _ANY and theirs.valid else mine.intersect(theirs)
            if new is not mine:
                ranges[axis] = new
                self.version += 1

    def set(self, axis: str, value: int) -> None:
        current = self.ranges[axis]
        if current.minimum.val == current.maximum.val == value & _MASK:
            return  # already exactly that value (with_value would return the same range)
        if current is _ANY:
            self.ranges[axis] = fixed_range(value & _MASK)  # [0, inf) holds every size_t value
            self.version += 1
            return
        try:
            new = current.with_value(value)
        except ShapeError:
            raise ShapeError(f"the {axis} of blob '{self.name}' must be {size_t(value)} but is already "
                             f"{current}") from None
        if new is not current:
            self.ranges[axis] = new
            self.version += 1

    def upper_bound(self, axis: str, value: Value) -> None:
        """upperBound*(const RangeValue&): only a bound value constrains."""
        if value.unbound:
            return
        current = self.ranges[axis]
        if current.valid and current.maximum.val is not None and current.maximum.val <= value.val:
            return  # already within [0, value]: the intersection would have the current bounds
        self.intersect(axis, Range.of_values(Value(0), value))

    def lower_bound(self, axis: str, value: int) -> None:
        current = self.ranges[axis]
        if current.valid and current.minimum.val >= value & _MASK:
            return  # already within [value, inf): the intersection would have the current bounds
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
            widths = [size_t(size.width) for size in sizes]
            heights = [size_t(size.height) for size in sizes]
            self.update("width", Range.bounded(min(widths, default=_SIZE_MAX), max(widths, default=0)))
            self.update("height", Range.bounded(min(heights, default=_SIZE_MAX), max(heights, default=0)))
        elif flexibility == "imageSizeRange":
            self.update("width", Range.of_size_range(image.imageSizeRange.widthRange))
            self.update("height", Range.of_size_range(image.imageSizeRange.heightRange))
        else:
            self.set("height", size_t(image.height))
            self.set("width", size_t(image.width))

    def _constrain_to_array(self, array) -> None:
        ranges = []
        flexibility = array.WhichOneof("ShapeFlexibility")
        if flexibility == "enumeratedShapes":
            shapes = [list(shape.shape) for shape in array.enumeratedShapes.shapes]
            for dimension in range(max((len(shape) for shape in shapes), default=0)):
                sizes = [size_t(shape[dimension]) for shape in shapes if dimension < len(shape)]
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
            self.set("channel", size_t(shape[0]))
            if len(shape) == 3:
                self.set("height", size_t(shape[1]))
                self.set("width", size_t(shape[2]))
            else:
                self.set("height", 1)
                self.set("width", 1)
        else:
            raise ShapeError(f"feature {self.name} has an invalid array shape constraint ({len(ranges)} dimensions)")


