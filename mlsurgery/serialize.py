"""Write a spec through a callback in bounded pieces, byte-identical to ``SerializeToString(deterministic=True)``.

``SerializeToString`` of a whole spec holds the parsed message, upb's encoder buffer and the returned bytes at
once: three times the file. ``write_message`` writes the same bytes in pieces of at most ``PIECE_BYTES``: it
descends into messages that can hold weights, writes their length prefixes from sizes it computes without
encoding (WeightParams sizes are arithmetic), and serializes everything else in small runs. A float array
larger than a piece is copied once into a scratch WeightParams (a C-level copy) and emitted a piece at a time by
trimming the scratch to each piece in turn, so the spec itself is never modified while it is written.
"""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.unknown_fields import UnknownFieldSet

from . import wire as wire_format
from .weights import FLOAT_VALUE_FIELD, has_only_marker_unknowns, stored_fields, weight_carrying_types

PIECE_BYTES = 1 << 25  # 32 MiB: the largest single SerializeToString while streaming
_WEIGHT_PARAMS = "CoreML.Specification.WeightParams"

Write = Callable[[object], object]
# ``copy_range(descriptor, offset, length)`` writes ``length`` bytes of the open file ``descriptor`` from ``offset``.
CopyRange = Callable[[int, int, int], object]


def write_message(message, write: Write, *, piece_bytes: int = PIECE_BYTES, copy_range: CopyRange | None = None) -> int:
    """Write ``message.SerializeToString(deterministic=True)``, byte for byte, through ``write`` in pieces of
    about ``piece_bytes`` (a message without weights, or a bytes field, is written whole whatever its size).

    Weight fields left in the model file (``mlsurgery.weights``' stored weights) are written as their real
    bytes: from the array an operation wrote, drawn piece by piece from a deferred recipe, or copied from the
    file with ``copy_range`` (default: ``write`` of the mapped bytes), never decoded. ``write`` must be done with
    its data when it returns (a drawn piece's buffer is reused for the next one). Returns the number of bytes
    written. The message is not modified.
    """
    writer = _StreamWriter(write, piece_bytes, copy_range)
    expected = writer.size(message)
    writer.emit(message)
    if writer.written != expected:
        raise RuntimeError(f"streaming serializer wrote {writer.written} bytes but sized the message at {expected}")
    return writer.written


_weight_carrying_types = weight_carrying_types


class _StreamWriter:
    def __init__(self, write: Write, piece_bytes: int, copy_range: CopyRange | None = None):
        self._write = write
        self._copy_range = copy_range
        self._piece_bytes = piece_bytes
        # Float pieces stay a little under the piece size so upb's encoder buffer (sized to a power of two) needs
        # no second growth for the field header, and glibc reuses freed buffers rather than mapping new memory.
        self._piece_values = max(1, (piece_bytes - 64) // 4)
        self.written = 0
        self._sizes: dict[int, tuple[object, int]] = {}  # id → (message kept alive, serialized size)
        self._holding_stored: set[int] = set()  # ids of sized messages with stored weight fields under them

    def _out(self, data) -> None:
        self._write(data)
        self.written += len(data)

    def _heavy(self, message) -> bool:
        descriptor = message.DESCRIPTOR
        # Unknown fields are serialized after the known ones; a message carrying them is written whole (stored
        # weights' markers excepted: they stand for fields written in their place).
        if descriptor.full_name not in _weight_carrying_types(descriptor) or not len(UnknownFieldSet(message)):
            return descriptor.full_name in _weight_carrying_types(descriptor)
        return descriptor.full_name == _WEIGHT_PARAMS and has_only_marker_unknowns(message)

    def size(self, message) -> int:
        cached = self._sizes.get(id(message))
        if cached is not None:
            return cached[1]
        if not self._heavy(message):
            size = message.ByteSize()
        elif message.DESCRIPTOR.full_name == _WEIGHT_PARAMS:
            stored = stored_fields(message)
            if stored:
                self._holding_stored.add(id(message))
            size = sum(_length_delimited_size(field.number, stored[field.name].size) if field.name in stored
                       else self._weight_field_size(message, field, value) for field, value in message.ListFields())
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
        total = 0
        for item in values:
            total += _length_delimited_size(field.number, self.size(item))
            if id(item) in self._holding_stored:
                self._holding_stored.add(id(message))
        return total

    def emit(self, message) -> None:
        whole = self.size(message) <= self._piece_bytes or not self._heavy(message)
        if whole and id(message) not in self._holding_stored:
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
        stored = stored_fields(weights)
        for field, value in weights.ListFields():
            if field.name in stored:
                self._emit_stored(field.number, stored[field.name])
            elif field.name == "floatValue":
                self._emit_floats(weights)
            elif field.type == FieldDescriptor.TYPE_BYTES:
                self._out(wire_format.packed_header(field.number, len(value)))
                self._out(value)
            else:
                self._out(_only_fields(weights, [(field, value)]).SerializeToString(deterministic=True))

    def _emit_stored(self, number: int, entry) -> None:
        self._out(wire_format.packed_header(number, entry.size))
        if entry.recipe is not None:
            for piece in entry.drawn_pieces():
                self._out(piece)
        elif entry.values is not None:
            self._out(entry.data())
        elif self._copy_range is not None:
            self._copy_range(entry.source.descriptor, entry.offset, entry.length)
            self.written += entry.length
        else:
            for start in range(0, entry.length, self._piece_bytes):
                self._out(entry.data()[start:start + self._piece_bytes])

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
