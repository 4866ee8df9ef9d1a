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

Stored weights: ``mlsurgery.io.load_spec`` leaves every large weight field of a file (``floatValue``,
``float16Value``, ``rawValue``, ``int8RawValue`` of at least ``STORED_FIELD_BYTES``) in the file, mapped, and
parses a copy of the spec in which each such field is a one-value stub (so ``if weights.float16Value:`` and
``holds_float_values`` still read true) plus a marker: an unknown varint field (``MARKER_FIELD``) holding a
handle into this module's side table (handle → field number and where its bytes are: a byte range of the mapped
file, or an array an operation wrote). Markers travel with ``CopyFrom``, so a copied layer keeps its weights.
Everything that needs the real values or their count asks this module (``float_values``, ``field_size``,
``field_bytes``); ``fill_float_values`` and friends on stored weights keep the new values as a NumPy array in the
side table instead of the parsed message; and ``mlsurgery.serialize`` writes each stored field from its array or
copies its bytes from the input file, so nothing is decoded or re-encoded that did not change, and the process
holds one copy of what it changed, not two of the whole model.

Deferred values: a fill that can ``detach`` (reinit's uniform and zeros fills, ``mlsurgery.ops.reinit``) given
to ``fill_float_values`` on stored weights is not drawn there: the side table keeps the recipe (a maker of fills
and the count), and the save draws the values a piece at a time while it writes them (``_Stored.drawn_pieces``), so
a re-initialised layer never sits whole in memory and its drawing overlaps the writing. Anything that reads the
values before then (``float_values``, ``field_bytes``, ``materialize``) draws them whole on first read, the same
bytes.
"""

from __future__ import annotations

import functools
import itertools
import mmap
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from google.protobuf.unknown_fields import UnknownFieldSet

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

# ``fill(out, start)`` writes values start … start + len(out) - 1 of the array into ``out`` (float32). A fill may
# also have ``detach(count)``: a maker of fills each producing its next ``count`` values from the first, with the
# fill moved past them now; or None when it cannot (see "Deferred values" above).
Fill = Callable[[np.ndarray, int], None]

# Deferred values are drawn and written 8 MiB at a time: big enough that per-piece overhead vanishes, small
# enough that the two pieces in flight cost nothing next to the model.
DRAWN_PIECE_BYTES = 1 << 23


def float_values(weights) -> np.ndarray:
    """The values of an fp32 or fp16 ``WeightParams`` as a 1-D float32 array (empty when it holds none).

    fp32 values come back as a read-only view of a serialized copy; fp16 values are widened exactly to float32.
    Quantized weights raise ``ValueError``: expand them with ``mlsurgery.ops.precision.dequantize_layers``.
    """
    if not holds_float_values(weights):
        raise ValueError("quantized WeightParams have no float values; dequantize them first")
    if weights.float16Value:
        return np.frombuffer(field_bytes(weights, "float16Value"), dtype=FLOAT16_LE).astype(np.float32)
    if not len(weights.floatValue):
        return np.empty(0, dtype=np.float32)
    stored = _stored_fields(weights).get(FLOAT_VALUE_FIELD)
    if stored is not None:
        return np.frombuffer(stored.data(), dtype=FLOAT32_LE).astype(np.float32, copy=False)
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
    if _stored_fields(weights):
        detach = getattr(fill, "detach", None)
        make = detach(count) if detach is not None else None
        if make is not None:  # drawn while saving (see "Deferred values" above)
            entry = _Stored(FLOAT_VALUE_FIELD, recipe=_Recipe(make, count, chunk))
        else:
            entry = _Stored(FLOAT_VALUE_FIELD, _Recipe(lambda: fill, count, chunk).drawn())
        _store(weights, {FLOAT_VALUE_FIELD: entry})
        return
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
    stored = _stored_fields(weights)
    if stored:
        number = FLOAT16_FIELD if weights.float16Value else FLOAT_VALUE_FIELD
        old = stored[number].data() if number in stored else getattr(weights, _FIELD_NAMES[number])
        if number == FLOAT16_FIELD:
            values = np.concatenate([np.frombuffer(old, dtype=np.uint8), np.frombuffer(flat.astype(FLOAT16_LE), np.uint8)])
        else:
            old = np.frombuffer(old, dtype=FLOAT32_LE) if number in stored else np.array(old, dtype=FLOAT32_LE)
            values = np.concatenate([old, flat.astype(FLOAT32_LE)])
        _store(weights, {number: _Stored(number, values)}, keep=stored)
        return
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
    for _, number, wire, position in wire_format.fields(serialized):
        if number == FLOAT_VALUE_FIELD and wire == wire_format.LENGTH_DELIMITED:
            length, position = wire_format.read_varint(serialized, position)
            return np.frombuffer(serialized, dtype=FLOAT32_LE, count=length // 4, offset=position)
    return np.empty(0, dtype=np.float32)


def set_float16_values(weights, values: np.ndarray) -> None:
    """Make ``weights`` hold ``values`` rounded to fp16 (``float16Value``) instead of fp32 ones."""
    half = np.ascontiguousarray(values, dtype=np.float32).reshape(-1).astype(np.float16).astype(FLOAT16_LE)
    if _stored_fields(weights):
        _store(weights, {FLOAT16_FIELD: _Stored(FLOAT16_FIELD, np.frombuffer(half.tobytes(), np.uint8))})
        return
    weights.ClearField("floatValue")
    weights.float16Value = half.tobytes()


# --- stored weights: large fields left in the file (see the module docstring) ---------------------------------

FLOAT16_FIELD, RAW_FIELD, INT8_RAW_FIELD = 2, 30, 31
_FIELD_NAMES = {FLOAT_VALUE_FIELD: "floatValue", FLOAT16_FIELD: "float16Value", RAW_FIELD: "rawValue",
                INT8_RAW_FIELD: "int8RawValue"}
_FIELD_NUMBERS = {name: number for number, name in _FIELD_NAMES.items()}
WEIGHT_PARAMS = "CoreML.Specification.WeightParams"
# The highest field number protobuf allows: no Core ML message will ever define it.
MARKER_FIELD = (1 << 29) - 1
# Fields at least this big stay in the file; smaller ones are parsed as usual (their bookkeeping would cost more
# than they do).
STORED_FIELD_BYTES = 1 << 20


class StoredWeightsError(RuntimeError):
    """A stored-weights marker whose side-table entry is gone (its spec was released) or malformed."""


@dataclass
class _Source:
    """An open model file whose large weight fields a parsed spec refers to."""

    descriptor: int
    mapped: mmap.mmap
    handles: list[int] = field(default_factory=list)

    def close(self) -> None:
        for handle in self.handles:
            _ENTRIES.pop(handle, None)
        self.handles.clear()
        try:
            self.mapped.close()
        except BufferError:  # an array view of the mapping is still alive; the mapping goes with it
            pass
        os.close(self.descriptor)


@dataclass(frozen=True)
class _Recipe:
    """float32 values not drawn yet: ``count`` of them from a fill ``make()`` returns, given the same ``chunk``
    slices as ``fill_float_values`` would (so a generator draws the same values however they are pieced)."""

    make: Callable[[], Fill]
    count: int
    chunk: int

    def drawn(self) -> np.ndarray:
        values = np.empty(self.count, dtype=FLOAT32_LE)
        self.draw(self.make(), values, 0)
        return values

    def draw(self, fill: Fill, out: np.ndarray, start: int) -> None:
        """Values ``start`` … ``start + len(out) - 1`` into ``out``; ``start`` is a multiple of ``chunk``, and
        ``fill`` has drawn every value before ``start``."""
        for offset in range(0, len(out), self.chunk):
            fill(out[offset:offset + self.chunk], start + offset)


@dataclass
class _Stored:
    """One stored field: ``number`` of WeightParams, its bytes in ``source`` at ``offset`` (``length`` bytes),
    in ``values`` (an array written by an operation), or still to be drawn from ``recipe``."""

    number: int
    values: np.ndarray | None = None
    source: _Source | None = None
    offset: int = 0
    length: int = 0
    recipe: _Recipe | None = None

    @property
    def size(self) -> int:
        if self.recipe is not None:
            return 4 * self.recipe.count
        return self.values.nbytes if self.values is not None else self.length

    @property
    def written(self) -> bool:
        """Whether an operation gave this field its values (rather than the model file)."""
        return self.source is None

    def release_pages(self) -> None:
        """Drop the mapped pages of this range from the process's memory once an operation has read them (the
        page cache keeps them; a later read faults them back in), so converting fp16 to fp32 does not hold the
        input's pages next to the output's array."""
        if self.source is None or not hasattr(mmap, "MADV_DONTNEED"):
            return
        start = self.offset - self.offset % mmap.PAGESIZE
        try:
            self.source.mapped.madvise(mmap.MADV_DONTNEED, start, self.offset + self.length - start)
        except (OSError, ValueError):
            pass  # only a memory saving

    def data(self):
        """The field's bytes (a read-only view, not a copy); deferred values are drawn now, once."""
        if self.recipe is not None:
            self.values, self.recipe = self.recipe.drawn(), None
        if self.values is not None:
            return memoryview(self.values).cast("B")
        return memoryview(self.source.mapped)[self.offset:self.offset + self.length]

    def drawn_pieces(self) -> Iterator[memoryview]:
        """The bytes of deferred values, ``DRAWN_PIECE_BYTES`` at a time, drawn afresh on each call.

        A worker thread draws the next piece while the caller writes this one (NumPy's generators and its
        arithmetic release the GIL, and so does writing a file), into two buffers taken in turn: each piece is
        valid until the caller asks for the next, so it must be written, not kept.
        """
        recipe = self.recipe
        piece = max(1, DRAWN_PIECE_BYTES // 4 // recipe.chunk) * recipe.chunk  # whole chunks: the same slices
        buffers = [np.empty(min(piece, recipe.count), dtype=FLOAT32_LE) for _ in range(2)]
        fill = recipe.make()

        def draw(number: int) -> np.ndarray:
            start = number * piece
            out = buffers[number % 2][:min(piece, recipe.count - start)]
            recipe.draw(fill, out, start)
            return out

        pieces = -(-recipe.count // piece)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlsurgery-draw") as worker:
            pending = worker.submit(draw, 0) if pieces else None
            for number in range(pieces):
                out = pending.result()
                if number + 1 < pieces:  # into the other buffer, while the caller writes this one
                    pending = worker.submit(draw, number + 1)
                yield memoryview(out).cast("B")


_ENTRIES: dict[int, _Stored] = {}
_HANDLES = itertools.count(1)


def _stored_fields(weights) -> dict[int, _Stored]:
    """Field number → stored field, for the markers ``weights`` carries (empty for ordinary weights)."""
    if not _may_be_stub(weights):
        return {}
    found = {}
    for unknown in UnknownFieldSet(weights):
        if unknown.field_number == MARKER_FIELD:
            entry = _ENTRIES.get(unknown.data)
            if entry is None:
                raise StoredWeightsError("these weights' values are no longer held (their model file was closed, or "
                                         "a copy of this layer was given new values); load the model again")
            found[entry.number] = entry
    return found


def _may_be_stub(weights) -> bool:
    # A stub holds exactly one value (one float, or one byte): any other length is a real field, answered fast.
    return (len(weights.floatValue) == 1 or len(weights.float16Value) == 1 or len(weights.rawValue) == 1
            or len(weights.int8RawValue) == 1)


def _store(weights, fields: dict[int, _Stored], keep: dict[int, _Stored] | None = None) -> None:
    """Make ``weights`` hold exactly ``fields`` (stored ones; dropping every other storage and its quantization
    unless it is in ``keep``)."""
    kept = {number: entry for number, entry in (keep or {}).items() if number not in fields}
    quantization = None
    if keep is not None and weights.HasField("quantization"):
        quantization = weights.quantization.SerializeToString()
    updatable = weights.isUpdatable
    # Values an operation wrote earlier are dropped with the field they filled (repeated training saves would
    # otherwise pile up arrays); the file's byte ranges cost nothing and stay for copies of this message.
    for unknown in UnknownFieldSet(weights):
        old = _ENTRIES.get(unknown.data) if unknown.field_number == MARKER_FIELD else None
        if old is not None and old.written:
            del _ENTRIES[unknown.data]
        elif old is not None and old.number not in kept:
            old.release_pages()
    weights.Clear()
    for number, entry in {**kept, **fields}.items():
        handle = next(_HANDLES)
        _ENTRIES[handle] = entry
        if entry.source is not None:
            entry.source.handles.append(handle)
        weights.MergeFromString(_stub(number) + wire_format.encode_varint(MARKER_FIELD << 3 | wire_format.VARINT)
                                + wire_format.encode_varint(handle))
    if quantization is not None:
        weights.quantization.ParseFromString(quantization)
    if updatable:
        weights.isUpdatable = True


def _stub(number: int) -> bytes:
    """The one-value stand-in of a stored field: one float 0.0, or one zero byte."""
    return wire_format.packed_header(number, 4 if number == FLOAT_VALUE_FIELD else 1) + bytes(
        4 if number == FLOAT_VALUE_FIELD else 1)


def field_size(weights, name: str) -> int:
    """``len(weights.<name>)`` of the real field, stored or not: values for ``floatValue``, bytes otherwise."""
    size = len(getattr(weights, name))
    if size != 1:  # a stub has exactly one value: any other length is the real one (validation's hot path)
        return size
    entry = _stored_fields(weights).get(_FIELD_NUMBERS[name])
    if entry is None:
        return len(getattr(weights, name))
    return entry.size // 4 if name == "floatValue" else entry.size


def field_bytes(weights, name: str):
    """The bytes of bytes field ``name`` (``float16Value``, ``rawValue``, ``int8RawValue``), stored or not."""
    entry = _stored_fields(weights).get(_FIELD_NUMBERS[name])
    return getattr(weights, name) if entry is None else entry.data()


def stored_field_sizes(weights) -> dict[str, int]:
    """Field name → byte length of each stored field of ``weights`` (for ``mlsurgery.serialize``)."""
    return {_FIELD_NAMES[number]: entry.size for number, entry in _stored_fields(weights).items()}


def stored_fields(weights) -> dict[str, _Stored]:
    return {_FIELD_NAMES[number]: entry for number, entry in _stored_fields(weights).items()}


def has_only_marker_unknowns(message) -> bool:
    return all(unknown.field_number == MARKER_FIELD for unknown in UnknownFieldSet(message))


def materialize(message) -> None:
    """Put the real values of every stored field under ``message`` back into it (a plain, self-contained spec)."""
    for weights in _weight_params_in(message):
        stored = _stored_fields(weights)
        if not stored:
            continue
        for number, entry in stored.items():
            weights.ClearField(_FIELD_NAMES[number])
            data = bytes(entry.data())
            weights.MergeFromString(wire_format.packed_header(number, len(data)) + data)
        weights.DiscardUnknownFields()


def has_stored_fields(message) -> bool:
    return any(_stored_fields(weights) for weights in _weight_params_in(message))


def _weight_params_in(message) -> Iterator:
    carrying = weight_carrying_types(message.DESCRIPTOR)
    pending = [message]
    while pending:
        current = pending.pop()
        if current.DESCRIPTOR.full_name == WEIGHT_PARAMS:
            yield current
            continue
        for descriptor, value in current.ListFields():
            target = descriptor.message_type
            if target is None or target.full_name not in carrying or target.GetOptions().map_entry:
                continue
            pending.extend(value if descriptor.is_repeated else [value])


@functools.cache
def weight_carrying_types(root) -> frozenset[str]:
    """Full names of the message types reachable from ``root`` whose instances can contain a WeightParams."""
    edges: dict[str, set[str]] = {}
    pending = [root]
    while pending:
        descriptor = pending.pop()
        if descriptor.full_name in edges:
            continue
        edges[descriptor.full_name] = set()
        for child in descriptor.fields:
            if child.message_type is not None:
                edges[descriptor.full_name].add(child.message_type.full_name)
                pending.append(child.message_type)
    carrying = {WEIGHT_PARAMS}
    grew = True
    while grew:
        grew = False
        for name, targets in edges.items():
            if name not in carrying and targets & carrying:
                carrying.add(name)
                grew = True
    return frozenset(carrying)


def release(source: _Source | None) -> None:
    """Close a model file loaded with stored weights and forget its entries (``mlsurgery.io.release_spec``)."""
    if source is not None:
        source.close()


# --- the scan: which fields of a serialized spec to leave in the file ------------------------------------------

class _Unstrippable(Exception):
    """The data has something the scan does not rewrite safely (it is then parsed whole, as before)."""


def strip_stored_fields(path_descriptor: int, root, threshold: int = None):
    """Map the file open at ``path_descriptor`` and return ``(stripped bytes, source)``: the serialized spec with
    each large weight field replaced by a stub and a marker, and the ``_Source`` the markers point into. Returns
    None when no field is large enough, or the data has anything the rewrite does not handle safely (unknown
    fields, repeated singular messages, unpacked floats, malformed data): the caller then parses the file whole.
    """
    threshold = STORED_FIELD_BYTES if threshold is None else threshold
    size = os.fstat(path_descriptor).st_size
    if size < max(threshold, 1):
        return None
    mapped = mmap.mmap(path_descriptor, 0, access=mmap.ACCESS_READ)
    scan = _Scan(mapped, threshold, weight_carrying_types(root))
    try:
        pieces, _, _ = scan.message(root, 0, size)
    except (_Unstrippable, IndexError, ValueError):
        pieces = None
    if not scan.entries or pieces is None:
        del pieces
        scan.view.release()
        mapped.close()
        return None
    stripped = b"".join(pieces)
    del pieces
    scan.view.release()
    source = _Source(os.dup(path_descriptor), mapped)
    for handle, entry in scan.entries.items():
        entry.source = source
        _ENTRIES[handle] = entry
        source.handles.append(handle)
    return stripped, source


class _Scan:
    def __init__(self, data, threshold: int, carrying: frozenset[str]):
        self.data = data
        self.view = memoryview(data)
        self.threshold = threshold
        self.carrying = carrying
        self.entries: dict[int, _Stored] = {}

    def message(self, descriptor, start: int, end: int) -> tuple[list, int, bool]:
        """The pieces of the rewritten message between ``start`` and ``end``, their total length, and whether
        anything in it was rewritten."""
        data, read_varint = self.data, wire_format.read_varint
        is_weights = descriptor.full_name == WEIGHT_PARAMS
        by_number = descriptor.fields_by_number
        pieces: list = []
        length = 0
        copied = start  # the unchanged bytes since the last rewritten field
        seen: set[int] = set()
        position = start
        while position < end:
            field_start = position
            key, position = read_varint(data, position)
            number, wire = key >> 3, key & 7
            child = by_number.get(number)
            if child is None:
                raise _Unstrippable("unknown field")
            if wire == wire_format.LENGTH_DELIMITED:
                size, position = read_varint(data, position)
                value_start, position = position, position + size
            elif wire == wire_format.VARINT:
                _, position = read_varint(data, position)
                value_start = size = None
            elif wire == wire_format.FIXED32:
                position += 4
                value_start = size = None
            elif wire == wire_format.FIXED64:
                position += 8
                value_start = size = None
            else:
                raise _Unstrippable("groups")
            if position > end:
                raise _Unstrippable("truncated")
            rewrite = None
            if is_weights and number in _FIELD_NAMES:
                if number in seen:  # a repeated occurrence merges (floats concatenate, bytes: last wins)
                    raise _Unstrippable("repeated weight field")
                seen.add(number)
                if size and size >= self.threshold:  # an empty field stays (a stub would read as filled)
                    if number == FLOAT_VALUE_FIELD and size % 4:
                        raise _Unstrippable("truncated floats")
                    rewrite = self._stub(number, value_start, size)
            elif child.message_type is not None and child.message_type.full_name in self.carrying:
                if wire != wire_format.LENGTH_DELIMITED:
                    raise _Unstrippable("wire type")
                if not child.is_repeated:
                    if number in seen:  # a second occurrence would merge into the first
                        raise _Unstrippable("repeated singular message")
                    seen.add(number)
                if size >= self.threshold:
                    inner, inner_length, changed = self.message(child.message_type, value_start,
                                                                value_start + size)
                    if changed:
                        rewrite = [wire_format.packed_header(number, inner_length), *inner]
            if rewrite is None:
                continue
            if copied < field_start:
                pieces.append(self.view[copied:field_start])
                length += field_start - copied
            pieces.extend(rewrite)
            length += sum(len(piece) for piece in rewrite)
            copied = position
        if position != end:
            raise _Unstrippable("message overruns its length")
        if copied < end:
            pieces.append(self.view[copied:end])
            length += end - copied
        return pieces, length, copied != start

    def _stub(self, number: int, start: int, size: int) -> list[bytes]:
        handle = next(_HANDLES)
        self.entries[handle] = _Stored(number, offset=start, length=size)
        return [_stub(number) + wire_format.encode_varint(MARKER_FIELD << 3 | wire_format.VARINT)
                + wire_format.encode_varint(handle)]


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
