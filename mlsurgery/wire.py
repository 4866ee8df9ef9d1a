"""The protobuf wire format, the little of it mlsurgery reads and writes by hand.

Weights are moved as packed bytes rather than through Python float lists (see ``weights``), and a file is
read with the same leniency as Core ML's C++ parser (see ``io``): both need varints and a walk over a
message's top-level fields.
"""

from __future__ import annotations

from collections.abc import Iterator

VARINT, FIXED64, LENGTH_DELIMITED, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def packed_header(field: int, length: int) -> bytes:
    """The key and length that open a length-delimited (packed) field of ``length`` bytes."""
    return encode_varint(field << 3 | LENGTH_DELIMITED) + encode_varint(length)


def read_varint(data, position: int) -> tuple[int, int]:
    """The varint at ``position`` and the position after it; ``IndexError`` when the data ends inside it."""
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def fields(data) -> Iterator[tuple[int, int, int, int]]:
    """Each top-level field of a serialized message as (tag, field number, wire type, value start).

    A length-delimited value spans ``length`` bytes from its start; the walk stops at a key of 0 or an
    END_GROUP key (yielding it, so the caller can tell where it stood) and raises ``ValueError`` on groups or
    data that end inside a field.
    """
    position = 0
    while position < len(data):
        start = position
        try:
            key, position = read_varint(data, position)
        except IndexError:
            raise ValueError("data ends inside a field key") from None
        field, wire = key >> 3, key & 7
        yield start, field, wire, position
        if key == 0 or wire == END_GROUP:
            return
        try:
            if wire == VARINT:
                _, position = read_varint(data, position)
            elif wire == LENGTH_DELIMITED:
                length, position = read_varint(data, position)
                position += length
            elif wire == FIXED64:
                position += 8
            elif wire == FIXED32:
                position += 4
            else:
                raise ValueError(f"unsupported wire type {wire}")
        except IndexError:
            raise ValueError("data ends inside a field") from None
        if position > len(data):
            raise ValueError("data ends inside a field")


def end_of_message(data) -> int | None:
    """Where Core ML's C++ parser stops reading ``data`` as one message, if that is before its end.

    C++ protobuf ends a top-level parse successfully at a key of 0 or a stray END_GROUP key and ignores what
    follows (Core ML's loadSpecification, mlmodel/src/Utils.hpp, does not check that the whole file was read);
    the Python parser calls such data corrupt. Returns None when the data holds no such stop or is malformed
    before it.
    """
    try:
        for start, field, wire, _ in fields(data):
            if (field == 0 and wire == VARINT) or wire == END_GROUP:
                return start
    except ValueError:
        return None
    return None
