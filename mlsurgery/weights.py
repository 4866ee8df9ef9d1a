"""Read and write the numbers of Core ML ``WeightParams`` at memory speed, with bounded temporaries.

Why this module exists: with upb protobuf, every value that crosses between Python and a repeated float field
is a Python object, so ``floatValue.extend(ndarray)`` costs ~0.3 µs a value (4.6 s for 16 M floats), while upb
parses and serializes packed floats at close to memcpy speed. So values never cross one by one:

- reading serializes the ``WeightParams`` (one pass in C) and views its packed ``floatValue`` bytes with
  ``np.frombuffer``;
- writing encodes the packed field (tag, length, little-endian float32 bytes) from numpy and hands it to
  ``MergeFromString``, one fixed-size chunk at a time through one reused buffer. Protobuf parsers concatenate
  repeated packed occurrences of a field, so the chunks add up to the whole array;
- saving streams the spec (``mlsurgery.serialize.write_message``) instead of serializing it whole.

Memory: upb keeps every array of a message in the arena of the message tree until the root message dies;
``ClearField`` drops the array but not its storage. Emptying the field with ``del floatValue[:]`` instead keeps
upb's array and its capacity, so writing the same number of values again (re-initialisation) fills the very same
storage: rewriting 400 MB of weights costs one 4 MB chunk buffer, not another 400 MB. A field that must grow is
sized once up front rather than doubled chunk by chunk. (This is upb behaviour we measured, not a documented
guarantee; ``benchmarks/`` would show a regression as a memory jump.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

from . import wire as wire_format
from .coreml import holds_float_values

# Protobuf stores fixed32/float little-endian, and so do the float16 bytes Core ML keeps in ``float16Value``.
FLOAT32_LE = np.dtype("<f4")
FLOAT16_LE = np.dtype("<f2")

# Values per MergeFromString call: 1 M floats (4 MB) keep the buffer cache-friendly while the per-call overhead
# (a few µs) stays negligible; measured flat between 256 K and 4 M.
CHUNK_VALUES = 1 << 20

FLOAT_VALUE_FIELD = 1  # WeightParams.floatValue
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
    header = wire_format.packed_header(FLOAT_VALUE_FIELD, 4 * count)
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
        header = wire_format.packed_header(FLOAT_VALUE_FIELD, 4 * size)
        first = _MAX_HEADER - len(header)
        buffer[first:_MAX_HEADER] = np.frombuffer(header, dtype=np.uint8)
        weights.MergeFromString(view[first:_MAX_HEADER + 4 * size])


def _packed_floats(serialized: bytes) -> np.ndarray:
    """The packed ``floatValue`` of a serialized WeightParams, viewed in place (upb always writes it packed)."""
    for _, field, wire, position in wire_format.fields(serialized):
        if field == FLOAT_VALUE_FIELD and wire == wire_format.LENGTH_DELIMITED:
            length, position = wire_format.read_varint(serialized, position)
            return np.frombuffer(serialized, dtype=FLOAT32_LE, count=length // 4, offset=position)
    return np.empty(0, dtype=np.float32)


def unpack_bits(packed: np.ndarray, bits: int, start: int, count: int) -> np.ndarray:
    """Values start … start + count - 1 of unsigned ``bits``-bit integers packed most-significant-bit first.

    How NeuralNetwork.proto's ``QuantizationParams`` store ``rawValue``; ``start`` is a multiple of 8 (chunks
    are), so the values begin on a byte boundary.
    """
    if start * bits % 8:
        raise ValueError(f"a chunk of {bits}-bit values must start on a byte boundary, not at value {start}")
    if bits == 8:
        return packed[start:start + count]
    first = start * bits // 8
    stream = np.unpackbits(packed[first:first + (count * bits + 7) // 8])[:count * bits].reshape(count, bits)
    values = np.zeros(count, dtype=np.uint8)
    for column in range(bits):
        values = (values << 1) | stream[:, column]
    return values
