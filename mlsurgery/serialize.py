"""Write a spec through a callback in bounded pieces, byte-identical to ``SerializeToString(deterministic=True)``.

``SerializeToString`` of a whole spec holds the parsed message, upb's encoder buffer and the returned bytes at
once: three times the file. ``write_message`` writes the same bytes in pieces of at most ``PIECE_BYTES``: it
descends into messages that can hold weights, writes their length prefixes from sizes it computes without
encoding (WeightParams sizes are arithmetic), and serializes everything else in small runs. A float array
larger than a piece is copied once into a scratch WeightParams (a C-level copy) and emitted a piece at a time by
trimming the scratch to each piece in turn, so the spec itself is never modified while it is written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.unknown_fields import UnknownFieldSet

from . import wire as wire_format
from .weights import FLOAT_VALUE_FIELD

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
                    self._out(wire_format.packed_header(field.number, self.size(item)))
                    self.emit(item)

    def _emit_weights(self, weights) -> None:
        for field, value in weights.ListFields():
            if field.name == "floatValue":
                self._emit_floats(weights)
            elif field.type == FieldDescriptor.TYPE_BYTES:
                self._out(wire_format.packed_header(field.number, len(value)))
                self._out(value)
            else:
                self._out(_only_fields(weights, [(field, value)]).SerializeToString(deterministic=True))

    def _emit_floats(self, weights) -> None:
        count = len(weights.floatValue)
        self._out(wire_format.packed_header(FLOAT_VALUE_FIELD, 4 * count))
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
    return len(wire_format.packed_header(field, length)) + length
