"""Read and write the numbers of Core ML ``WeightParams`` at memory speed, with bounded temporaries.

Why this module exists: with upb protobuf, every value that crosses between Python and a repeated float field
is a Python object, so ``floatValue.extend(ndarray)`` costs ~0.3 µs a value (4.6 s for 16 M floats), while upb
parses and serializes packed floats at close to memcpy speed. So values never cross one by one:

- reading serializes the ``WeightParams`` (one pass in C) and views its packed ``floatValue`` bytes with
  ``np.frombuffer``;
- writing encodes the packed field (tag, length, little-endian float32 bytes) from numpy and hands it to
  ``MergeFromString``, one fixed-size chunk at a time through one reused buffer. Protobuf parsers concatenate
  repeated packed occurrences of a field, so the chunks add up to the whole array;
- saving streams the spec (``write_message``) instead of serializing it whole (see the section below).

Memory: upb keeps every array of a message in the arena of the message tree until the root message dies;
``ClearField`` drops the array but not its storage. Emptying the field with ``del floatValue[:]`` instead keeps
upb's array and its capacity, so writing the same number of values again (re-initialisation) fills the very same
storage: rewriting 400 MB of weights costs one 4 MB chunk buffer, not another 400 MB. A field that must grow is
sized once up front rather than doubled chunk by chunk. (This is upb behaviour we measured, not a documented
guarantee; ``benchmarks/`` would show a regression as a memory jump.)
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import numpy as np
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.unknown_fields import UnknownFieldSet

from . import wire as wire_format
from .coreml import holds_float_values

# Protobuf stores fixed32/float little-endian, and so do the float16 bytes Core ML keeps in ``float16Value``.
FLOAT32_LE = np.dtype("<f4")
FLOAT16_LE = np.dtype("<f2")

# Values per MergeFromString call: 1 M floats (4 MB) keep the buffer cache-friendly while the per-call overhead
# (a few µs) stays negligible; measured flat between 256 K and 4 M.
CHUNK_VALUES = 1 << 20

_FLOAT_VALUE_FIELD = 1  # WeightParams.floatValue
_MAX_HEADER = 16  # tag (1 byte) + varint length (≤ 10 bytes), rounded up to keep the floats 4-byte aligned

# ``fill(out, start)`` writes values start … start + len(out) - 1 of the array into ``out`` (float32).
Fill = Callable[[np.ndarray, int], None]


def float_values(weights) -> np.ndarray:
    """The values of an fp32 or fp16 ``WeightParams`` as a 1-D float32 array (empty when it holds none).

    fp32 values come back as a read-only view of a serialized copy; fp16 values are widened exactly to float32.
    Quantized weights raise ``ValueError``: expand them with ``mlsurgery.ops.precision.dequantize_layers``.
    """
    if not holds_float_values(weights):
        raise ValueError("quantized WeightParams have no float values; dequantize them first")
    if weights.float16Value:
        return np.frombuffer(weights.float16Value, dtype=FLOAT16_LE).astype(np.float32)
    if not len(weights.floatValue):
        return np.empty(0, dtype=np.float32)
    return _packed_floats(weights.SerializeToString())


def set_float_values(weights, values: np.ndarray) -> None:
    """Make ``weights`` hold exactly ``values`` as fp32, dropping any fp16 or quantized storage it had."""
    flat = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)

    def copy(out: np.ndarray, start: int) -> None:
        out[:] = flat[start:start + len(out)]

    fill_float_values(weights, flat.size, copy)


def fill_float_values(weights, count: int, fill: Fill, *, chunk: int = CHUNK_VALUES) -> None:
    """Make ``weights`` hold ``count`` fp32 values produced chunk by chunk by ``fill``, in order.

    ``fill`` is called with consecutive slices of the array, so a random generator drawing into ``out`` yields
    the same values as one draw of ``count`` (numpy generators draw sequentially). Any fp16 or quantized storage
    is dropped, because a WeightParams must hold exactly one kind of values.
    """
    for name in ("float16Value", "rawValue", "int8RawValue", "quantization"):
        weights.ClearField(name)
    if count > len(weights.floatValue):
        _reserve(weights, count)
    del weights.floatValue[:]  # keeps upb's storage for the values below (see module docstring)
    _merge_packed(weights, count, fill, chunk)


def _reserve(weights, count: int) -> None:
    """Give the floatValue storage for ``count`` values in one allocation.

    Chunks appended to a shorter array would make upb grow it by doubling, leaving every outgrown copy in the
    arena (about 1.3× the array as garbage). One merge of ``count`` zeros sizes it at once; the zeros come from
    a freshly allocated, never written numpy buffer, whose pages the OS maps to its shared zero page, so the
    buffer costs address space, not resident memory.
    """
    zeros = np.zeros(_MAX_HEADER + 4 * count, dtype=np.uint8)
    header = _packed_header(_FLOAT_VALUE_FIELD, 4 * count)
    first = _MAX_HEADER - len(header)
    zeros[first:_MAX_HEADER] = np.frombuffer(header, dtype=np.uint8)
    del weights.floatValue[:]
    weights.MergeFromString(memoryview(zeros)[first:])


def append_values(weights, values: np.ndarray) -> None:
    """Append ``values`` after the existing values, in the precision the weights already use (fp32 or fp16).

    The existing values are not rewritten, so they stay bit-identical.
    """
    flat = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    if not holds_float_values(weights):
        raise ValueError("cannot append to quantized WeightParams; dequantize them first")
    if weights.float16Value:
        weights.float16Value = weights.float16Value + flat.astype(FLOAT16_LE).tobytes()
        return

    def copy(out: np.ndarray, start: int) -> None:
        out[:] = flat[start:start + len(out)]

    _merge_packed(weights, flat.size, copy, CHUNK_VALUES)


def _merge_packed(weights, count: int, fill: Fill, chunk: int) -> None:
    buffer = np.empty(_MAX_HEADER + 4 * min(count, chunk), dtype=np.uint8)
    view = memoryview(buffer)
    for start in range(0, count, chunk):
        size = min(chunk, count - start)
        body = buffer[_MAX_HEADER:_MAX_HEADER + 4 * size].view(np.float32)
        fill(body, start)
        if sys.byteorder == "big":
            body.byteswap(inplace=True)
        header = _packed_header(_FLOAT_VALUE_FIELD, 4 * size)
        first = _MAX_HEADER - len(header)
        buffer[first:_MAX_HEADER] = np.frombuffer(header, dtype=np.uint8)
        weights.MergeFromString(view[first:_MAX_HEADER + 4 * size])


def _packed_header(field: int, length: int) -> bytes:
    key = field << 3 | wire_format.LENGTH_DELIMITED
    return wire_format.encode_varint(key) + wire_format.encode_varint(length)


def _packed_floats(serialized: bytes) -> np.ndarray:
    """The packed ``floatValue`` of a serialized WeightParams, viewed in place (upb always writes it packed)."""
    for _, field, wire, position in wire_format.fields(serialized):
        if field == _FLOAT_VALUE_FIELD and wire == wire_format.LENGTH_DELIMITED:
            length, position = wire_format.read_varint(serialized, position)
            return np.frombuffer(serialized, dtype=FLOAT32_LE, count=length // 4, offset=position)
    return np.empty(0, dtype=np.float32)


# --- streaming serialization -------------------------------------------------------------------------------------
#
# ``SerializeToString`` of a whole spec holds the parsed message, upb's encoder buffer and the returned bytes at
# once: three times the file. ``write_message`` writes the same bytes in pieces of at most ``PIECE_BYTES``: it
# descends into messages that can hold weights, writes their length prefixes from sizes it computes without
# encoding (WeightParams sizes are arithmetic), and serializes everything else in small runs. A float array
# larger than a piece is copied once into a scratch WeightParams (a C-level copy) and emitted a piece at a time by
# trimming the scratch to each piece in turn, so the spec itself is never modified while it is written.

PIECE_BYTES = 1 << 25  # 32 MiB: the largest single SerializeToString while streaming
_WEIGHT_PARAMS = "CoreML.Specification.WeightParams"

Write = Callable[[object], object]


def write_message(message, write: Write, *, piece_bytes: int = PIECE_BYTES) -> int:
    """Write ``message.SerializeToString(deterministic=True)``, byte for byte, through ``write`` in pieces of
    about ``piece_bytes`` (a message without weights, or a bytes field, is written whole whatever its size).

    Returns the number of bytes written. The message is not modified.
    """
    writer = _StreamWriter(write, piece_bytes)
    expected = writer.size(message)
    writer.emit(message)
    if writer.written != expected:
        raise RuntimeError(f"streaming serializer wrote {writer.written} bytes but sized the message at {expected}")
    return writer.written


@functools.cache
def _weight_carrying_types(root) -> frozenset[str]:
    """Full names of the message types reachable from ``root`` whose instances can contain a WeightParams."""
    edges: dict[str, set[str]] = {}
    pending = [root]
    while pending:
        descriptor = pending.pop()
        if descriptor.full_name in edges:
            continue
        edges[descriptor.full_name] = set()
        for field in descriptor.fields:
            if field.message_type is not None:
                edges[descriptor.full_name].add(field.message_type.full_name)
                pending.append(field.message_type)
    carrying = {_WEIGHT_PARAMS}
    grew = True
    while grew:
        grew = False
        for name, targets in edges.items():
            if name not in carrying and targets & carrying:
                carrying.add(name)
                grew = True
    return frozenset(carrying)


class _StreamWriter:
    def __init__(self, write: Write, piece_bytes: int):
        self._write = write
        self._piece_bytes = piece_bytes
        # Float pieces stay a little under the piece size so upb's encoder buffer (sized to a power of two) needs
        # no second growth for the field header, and glibc reuses freed buffers rather than mapping new memory.
        self._piece_values = max(1, (piece_bytes - 64) // 4)
        self.written = 0
        self._sizes: dict[int, tuple[object, int]] = {}  # id → (message kept alive, serialized size)

    def _out(self, data) -> None:
        self._write(data)
        self.written += len(data)

    def _heavy(self, message) -> bool:
        descriptor = message.DESCRIPTOR
        # Unknown fields are serialized after the known ones; a message carrying them is written whole.
        return descriptor.full_name in _weight_carrying_types(descriptor) and not len(UnknownFieldSet(message))

    def size(self, message) -> int:
        cached = self._sizes.get(id(message))
        if cached is not None:
            return cached[1]
        if not self._heavy(message):
            size = message.ByteSize()
        elif message.DESCRIPTOR.full_name == _WEIGHT_PARAMS:
            size = sum(self._weight_field_size(message, field, value) for field, value in message.ListFields())
        else:
            size = sum(self._group_size(message, group) for group in _field_groups(message))
        self._sizes[id(message)] = (message, size)
        return size

    def _weight_field_size(self, weights, field, value) -> int:
        if field.name == "floatValue":
            return _length_delimited_size(field.number, 4 * len(value))
        if field.type == FieldDescriptor.TYPE_BYTES:
            return _length_delimited_size(field.number, len(value))
        if field.message_type is not None:
            return _length_delimited_size(field.number, value.ByteSize())
        return len(_only_fields(weights, [(field, value)]).SerializeToString(deterministic=True))

    def _group_size(self, message, group) -> int:
        field, values = group
        if field is None:
            return len(_only_fields(message, values).SerializeToString(deterministic=True))
        return sum(_length_delimited_size(field.number, self.size(item)) for item in values)

    def emit(self, message) -> None:
        if self.size(message) <= self._piece_bytes or not self._heavy(message):
            self._out(message.SerializeToString(deterministic=True))
        elif message.DESCRIPTOR.full_name == _WEIGHT_PARAMS:
            self._emit_weights(message)
        else:
            for field, values in _field_groups(message):
                if field is None:
                    self._out(_only_fields(message, values).SerializeToString(deterministic=True))
                    continue
                for item in values:
                    self._out(_packed_header(field.number, self.size(item)))
                    self.emit(item)

    def _emit_weights(self, weights) -> None:
        for field, value in weights.ListFields():
            if field.name == "floatValue":
                self._emit_floats(weights)
            elif field.type == FieldDescriptor.TYPE_BYTES:
                self._out(_packed_header(field.number, len(value)))
                self._out(value)
            else:
                self._out(_only_fields(weights, [(field, value)]).SerializeToString(deterministic=True))

    def _emit_floats(self, weights) -> None:
        count = len(weights.floatValue)
        self._out(_packed_header(_FLOAT_VALUE_FIELD, 4 * count))
        scratch = type(weights)()
        for start in range(0, count, self._piece_values):
            del scratch.floatValue[:]  # keeps the scratch's storage: every copy below lands in the same memory
            scratch.floatValue.MergeFrom(weights.floatValue)
            del scratch.floatValue[start + self._piece_values:]
            del scratch.floatValue[:start]
            piece = scratch.SerializeToString()
            self._out(memoryview(piece)[len(piece) - 4 * len(scratch.floatValue):])
            del piece  # before the next piece is serialized, so only one lives at a time


def _field_groups(message) -> list[tuple[object, list]]:
    """The set fields in field-number order: runs of fields without weights as (None, [(field, value)…]), and
    each weight-carrying message field as (field, [message…])."""
    carrying = _weight_carrying_types(message.DESCRIPTOR)
    groups: list[tuple[object, list]] = []
    for field, value in message.ListFields():
        heavy = field.message_type is not None and field.message_type.full_name in carrying and not (
            field.message_type.GetOptions().map_entry)
        if heavy:
            groups.append((field, list(value) if field.is_repeated else [value]))
        elif groups and groups[-1][0] is None:
            groups[-1][1].append((field, value))
        else:
            groups.append((None, [(field, value)]))
    return groups


def _only_fields(message, fields):
    """A new message of the same type holding just ``fields`` (copies of them)."""
    scratch = type(message)()
    for field, value in fields:
        target = getattr(scratch, field.name) if field.message_type is not None or field.is_repeated else None
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for key in value:
                if field.message_type.fields_by_name["value"].message_type is not None:
                    target[key].CopyFrom(value[key])
                else:
                    target[key] = value[key]
        elif field.is_repeated:
            target.extend(value)
        elif field.message_type is not None:
            target.CopyFrom(value)
        else:
            setattr(scratch, field.name, value)
    return scratch


def _length_delimited_size(field: int, length: int) -> int:
    return len(_packed_header(field, length)) + length
