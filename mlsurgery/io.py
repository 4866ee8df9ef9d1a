"""Reading and writing ``.mlmodel`` files: clear one-line errors on load, atomic writes on save."""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import mmap
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import DecodeError

from ._proto import model_pb2
from .errors import ModelLoadError, UsageError
from .network import pipeline_stages
from .weights import has_stored_fields, materialize, release, strip_stored_fields
from .wire import end_of_message


def load_spec(path: str | os.PathLike):
    """Load a ``.mlmodel`` file or an ``.mlpackage`` folder into a ``Model`` protobuf message, or raise
    ``ModelLoadError`` saying why not. An ML Program's weights stay in the package (``load_package`` says where)."""
    return _load(path, stored_weights=False)


def open_spec(path: str | os.PathLike):
    """``load_spec`` for mlsurgery's own jobs: large weight fields stay in the file, mapped, and the spec holds
    stubs for them (``mlsurgery.weights``: read them with ``float_values``/``field_size``/``field_bytes``, write
    them with ``fill_float_values``/``set_float_values``; ``save_spec`` writes their real bytes). Loading and
    saving then cost about what copying the file does, and memory holds only what an operation changes. The file
    stays open for the process's life; ``opened_spec`` closes it after a ``with`` block."""
    return _load(path, stored_weights=True)


def _load(path: str | os.PathLike, *, stored_weights: bool):
    path = Path(path)
    if path.is_dir():
        # Imported here: reading packages costs an .mlmodel's start-up nothing.
        from .package import is_package

        if is_package(path):
            return load_package(path, stored_weights=stored_weights).spec
    return _load_spec_file(path, stored_weights=stored_weights)


@dataclass(frozen=True)
class LoadedPackage:
    spec: object
    package: object  # mlsurgery.package.Package: where the manifest, spec and weights are
    weights_dir: Path | None  # the folder of the ML Program's weight files; None when the spec holds every weight


def load_package(path: str | os.PathLike, *, stored_weights: bool = False) -> LoadedPackage:
    """Load an ``.mlpackage``: its root model's spec and, for an ML Program, the checked weights folder it points
    into (``mlsurgery.package`` states the format and what is refused). ``stored_weights``: as ``open_spec``."""
    from .package import check_weights, open_package

    package = open_package(Path(path))
    spec = _load_spec_file(package.spec_file, stored_weights=stored_weights)
    weights_dir = check_weights(spec, package) if spec.WhichOneof("Type") == "mlProgram" else None
    return LoadedPackage(spec, package, weights_dir)


def _load_spec_file(path: Path, *, stored_weights: bool):
    if not path.exists():
        raise ModelLoadError(f"{path}: no such file")
    if path.is_dir():
        raise ModelLoadError(f"{path}: is a directory; give the path of an .mlmodel file or an .mlpackage folder")
    if path.suffix.lower() in (".zip", ".mlpackage"):
        from .package import zipped_package_refusal

        refusal = zipped_package_refusal(path)
        if refusal is not None:
            raise ModelLoadError(refusal)
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size == 0:
                return parse_spec(b"", source=str(path))
            if size > PROTOBUF_LIMIT:
                raise ModelLoadError(
                    f"{path}: is {size / 2**30:.1f} GiB, over the 2 GiB protobuf can parse (nor can Core ML load such "
                    "an .mlmodel); store its weights as fp16 or quantized (coremltools' quantization_utils) to "
                    "bring the spec under 2 GiB")
            if stored_weights:
                stored = _parse_with_stored_weights(stream.fileno(), str(path))
                if stored is not None:
                    return stored[0]
            # Parsed straight from the page cache: reading into a bytes object first costs a copy of the file.
            # (upb copies what it keeps, so nothing refers to the mapping once parsing returns.)
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mapped, memoryview(mapped) as data:
                return parse_spec(data, source=str(path))
    except OSError as error:
        raise ModelLoadError(f"{path}: cannot be read ({error.strerror})") from None


def _parse_with_stored_weights(descriptor: int, source: str):
    """``(spec, stored source)`` with the file's large weight fields left in the file (``mlsurgery.weights``), or
    None when the file has none (or anything the scan leaves to the ordinary parse, which also words errors)."""
    stripped = strip_stored_fields(descriptor, model_pb2().Model.DESCRIPTOR)
    if stripped is None:
        return None
    data, stored = stripped
    try:
        return parse_spec(data, source=source), stored
    except ModelLoadError:
        release(stored)
        return None


@contextlib.contextmanager
def opened_spec(path: str | os.PathLike):
    """``load_spec(path)`` for the duration of a ``with`` block: the file it keeps open for its large weight
    fields (``mlsurgery.weights``) is closed at the end, so a process can go through any number of models
    (validating a folder) without holding them all open. The spec must not be used after the block."""
    path = Path(path)
    if path.is_file() and 0 < path.stat().st_size <= PROTOBUF_LIMIT:
        try:
            with path.open("rb") as stream:
                stored = _parse_with_stored_weights(stream.fileno(), str(path))
        except OSError:
            stored = None
        if stored is not None:
            try:
                yield stored[0]
            finally:
                release(stored[1])
            return
    yield load_spec(path)


# Protobuf's hard limit on a serialized message (a signed 32-bit length), so on an .mlmodel file.
PROTOBUF_LIMIT = 2**31 - 1


def parse_spec(data: bytes, source: str = "<bytes>"):
    """Parse serialized spec bytes, rejecting input that is not recognisably a Core ML model."""
    if not data:
        raise ModelLoadError(f"{source}: is empty (0 bytes); it is not a Core ML model")
    spec = model_pb2().Model()
    try:
        spec.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError):
        # Core ML's C++ parser accepts data that stops at a zero or stray END_GROUP key; read what it reads.
        end = end_of_message(data)
        try:
            if end is None:
                raise DecodeError("corrupt")
            spec.Clear()
            spec.ParseFromString(memoryview(data)[:end])
        except (DecodeError, RuntimeError, ValueError):
            raise ModelLoadError(f"{source}: {_not_a_model_reason(data)}") from None
    # Protobuf happily parses many byte strings (unknown fields are kept), so a successful parse is not
    # proof: a real model states a specification version and a model type. Core ML rejects a spec lacking
    # either too (Model.cpp, validateGeneric / validate), so refusing them here never contradicts its verdict;
    # a negative version it does accept, and so do we.
    if spec.specificationVersion == 0 or spec.WhichOneof("Type") is None:
        raise ModelLoadError(f"{source}: {_not_a_model_reason(data)}")
    return spec


def _not_a_model_reason(data: bytes) -> str:
    head = bytes(data[:4096])
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if head.startswith(b"PK\x03\x04"):
        return ("is a zip archive, not a Core ML model; unzip it and give the .mlmodel file or .mlpackage folder it "
                "holds")
    if text is not None and text.strip() and all(ch.isprintable() or ch.isspace() for ch in text):
        return "is a text file, not a Core ML model; an .mlmodel is a binary protobuf written by coremltools"
    return ("is not a valid Core ML model (the protobuf is corrupt, truncated or not a Model spec); "
            "re-export it with coremltools")


def serialize_spec(spec) -> bytes:
    """The bytes mlsurgery writes: deterministic, so the same spec always gives the same file (with the real
    values of weight fields left in its file, see ``mlsurgery.weights``)."""
    if has_stored_fields(spec):
        from .serialize import write_message

        written = io.BytesIO()  # copies each piece: a drawn piece's buffer is reused for the next
        write_message(spec, written.write)
        return written.getvalue()
    return spec.SerializeToString(deterministic=True)


def save_spec(spec, path: str | os.PathLike, *, source: str | os.PathLike | None = None,
              in_place: bool = False) -> Path:
    """Write ``spec`` to ``path`` atomically (temp file in the same folder, fsync, rename).

    ``source`` is the file the spec was loaded from: writing over it is refused unless ``in_place``. When the
    spec is unchanged from ``source`` the source's exact bytes are kept, so load → save is byte-identical even
    for files whose metadata maps another writer ordered differently.
    """
    path = check_output_path(path, source=source, in_place=in_place)
    from .serialize import write_message

    def fill(stream) -> None:
        # Streamed in pieces: serializing a whole spec at once holds the message, upb's encoder buffer and the
        # bytes. Weight fields still in the input file are copied file to file by the kernel, never through this
        # process.
        writeback = _Writeback(stream)
        copy = _range_copier(stream)

        def copy_range(descriptor: int, offset: int, length: int) -> None:
            copy(descriptor, offset, length)
            writeback.wrote(length)

        write_message(spec, writeback.write, copy_range=copy_range)

    with _no_room_is_a_usage_error(path):
        _write_atomically(path, fill)
    if source is not None:
        source = Path(source)
        if source.is_dir():  # a package: its spec is the file the spec was read from
            from .package import is_package, open_package

            if is_package(source):
                source = open_package(source).spec_file
        _keep_source_bytes_if_unchanged(spec, path, source)
    return path


class _Writeback:
    """Writes to ``stream`` that ask the kernel to start putting them on disk every ``WRITEBACK_BYTES`` (Linux
    ``sync_file_range``; elsewhere plain writes), so the disk works while the save is still drawing and copying
    and the closing fsync finds little left to do, instead of all of it."""

    def __init__(self, stream):
        self._stream = stream
        self._start_writeback = _sync_file_range()
        self._written = 0
        self._started = 0  # bytes before this offset are under writeback already

    def write(self, data) -> None:
        self._stream.write(data)
        self.wrote(len(data))

    def wrote(self, length: int) -> None:
        """Count ``length`` bytes appended to the file (by ``write`` or past the stream, as a range copy does)."""
        self._written += length
        if self._start_writeback is None or self._written - self._started < WRITEBACK_BYTES:
            return
        self._stream.flush()
        self._start_writeback(self._stream.fileno(), self._started, self._written - self._started)
        self._started = self._written


WRITEBACK_BYTES = 1 << 23


@functools.cache
def _sync_file_range():
    """``start(descriptor, offset, length)``: Linux ``sync_file_range(…, SYNC_FILE_RANGE_WRITE)``, which starts
    writeback of that range and returns without waiting for it to finish (only for room in the disk's queue);
    None where the C library has no such call."""
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError, TypeError):  # not Linux (Windows has no CDLL(None) at all)
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    write = 2  # SYNC_FILE_RANGE_WRITE (linux/fs.h)

    def start(descriptor: int, offset: int, length: int) -> None:
        call(descriptor, offset, length, write)  # a hint: a failure leaves the work to fsync, which reports errors

    return start


# Errors that mean the output does not fit: the file system is full, the file is over a size limit (the
# file system's, or RLIMIT_FSIZE), or the user's quota is used up.
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


@contextlib.contextmanager
def _no_room_is_a_usage_error(path: Path):
    """Turn a write that ran out of room into a one-line ``UsageError`` naming ``path`` (``_write_atomically``
    has left nothing behind by then); other errors keep their traceback."""
    try:
        yield
    except OSError as error:
        if error.errno not in _NO_ROOM:
            raise
        raise UsageError(f"{path}: cannot be written: {error.strerror}; nothing was written (make room there, or "
                         "write it elsewhere)") from None


def _range_copier(stream):
    """``copy_range(descriptor, offset, length)`` appending that part of an open file to ``stream``:
    ``copy_file_range`` (in the kernel, no pages mapped here; a copy-on-write clone where the file system can),
    falling back to reading and writing 16 MiB at a time."""

    def copy_range(descriptor: int, offset: int, length: int) -> None:
        stream.flush()
        target = stream.fileno()
        end = offset + length
        if hasattr(os, "copy_file_range"):
            try:
                while offset < end:
                    copied = os.copy_file_range(descriptor, target, end - offset, offset)
                    if copied == 0:
                        raise OSError("copy_file_range copied nothing")
                    offset += copied
                return
            except OSError:
                pass  # EXDEV, ENOSYS, EINVAL on some file systems: copy through user space
        while offset < end:
            piece = os.pread(descriptor, min(_COMPARE_CHUNK, end - offset), offset)
            if not piece:
                raise OSError(f"the model file ended {end - offset} bytes early while its weights were copied")
            stream.write(piece)
            offset += len(piece)

    return copy_range


def check_output_path(path: str | os.PathLike, *, source: str | os.PathLike | None = None,
                      in_place: bool = False) -> Path:
    """Refuse an output path ``save_spec`` could not write (the input itself without ``in_place``, a folder, a
    missing folder), so a job can fail before it does any work; returns the path."""
    path = Path(path)
    if source is not None and not in_place and _same_file(path, Path(source)):
        raise UsageError(f"{path}: output is the input model; choose another -o path or pass --in-place")
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; give an output file path ending in .mlmodel")
    if path.suffix.lower() == ".mlpackage":
        raise UsageError(f"{path}: mlsurgery writes NeuralNetwork models, which are single .mlmodel files; give an "
                         "output path ending in .mlmodel")
    if not path.parent.exists():
        raise UsageError(f"{path}: folder {path.parent} does not exist")
    return path


def write_bytes_atomically(data: bytes, path: Path) -> None:
    with _no_room_is_a_usage_error(path):
        _write_atomically(path, lambda stream: stream.write(data))


def _write_atomically(path: Path, fill, *, anonymous: bool = True) -> None:
    """Write what ``fill(stream)`` writes beside ``path``, fsync it, and rename it over ``path``.

    A writer killed at any point leaves ``path`` as it was (old file) or complete (new file), and no debris:
    where Linux allows, the data goes to an anonymous ``O_TMPFILE`` file that vanishes with its writer and is
    linked under a temp name only for the final rename. Otherwise (or when ``anonymous`` is false) the temp file
    is named ``.NAME.<pid>.<start>.<token>.mlsurgery-tmp``: every save to ``path`` first removes those whose
    writer process is gone (PID no longer running, or reused by a process that started at another time).
    """
    _remove_debris_of_dead_writers(path)
    writer = f"{os.getpid()}.{_start_time(os.getpid())}.{secrets.token_hex(4)}"
    temp_name = path.parent / f".{path.name}.{writer}{_TEMP_SUFFIX}"
    # A model is an ordinary file: give it the mode the file it replaces had, or what the umask makes of 0666.
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_current_umask()
    handle = _open_anonymous(path.parent) if anonymous else None
    named = handle is None
    try:
        if named:
            handle = os.open(temp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), mode)
            fill(stream)
            stream.flush()
            os.fsync(stream.fileno())
            if not named:
                _link_anonymous(stream.fileno(), temp_name)
        os.replace(temp_name, path)
        _fsync_folder(path.parent)
    except BaseException:
        if os.path.lexists(temp_name):
            os.unlink(temp_name)
        raise


_TEMP_SUFFIX = ".mlsurgery-tmp"
_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.(?P<pid>\d+)\.(?P<start>\d+)\.[0-9a-f]+" + re.escape(_TEMP_SUFFIX))


def _open_anonymous(folder: Path) -> int | None:
    """An unnamed file in ``folder`` (Linux ``O_TMPFILE``), or None where the OS or file system has none."""
    if not hasattr(os, "O_TMPFILE") or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, os.O_TMPFILE | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError:  # e.g. EOPNOTSUPP on file systems without it, EISDIR on old kernels
        return None


def _link_anonymous(descriptor: int, name: Path) -> None:
    """Give an ``O_TMPFILE`` file a name: linkat(2) through /proc/self/fd with AT_SYMLINK_FOLLOW (os.link passes
    that flag only when given a folder descriptor, hence the descriptor of /proc/self/fd)."""
    fd_folder = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(descriptor), name, src_dir_fd=fd_folder, follow_symlinks=True)
    finally:
        os.close(fd_folder)


def _remove_debris_of_dead_writers(path: Path) -> None:
    """Delete temp files for ``path`` left by saves whose process is gone; keep those of running writers."""
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None or match["target"] != path.name:
            continue
        if _writer_alive(int(match["pid"]), int(match["start"])):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            pass  # another save removed it first, or the folder is read-only: nothing of ours to clean


def _writer_alive(pid: int, start: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a running process of another user
        pass
    except OSError:
        return False
    # The PID runs, but it may have been reused since the save started: compare start times where known.
    current = _start_time(pid)
    return not (start and current and current != start)


def _start_time(pid: int) -> int:
    """The process's start time in clock ticks since boot (Linux ``/proc/PID/stat``), or 0 where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return int(fields[19])  # field 22 of stat(5); fields[0] is field 3
    except (OSError, IndexError, ValueError):
        return 0


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable: without syncing the folder a power loss can bring back the old entry."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _keep_source_bytes_if_unchanged(spec, written: Path, source: Path) -> None:
    """Put the source's exact bytes in place of ``written`` when they differ only in the order of map entries."""
    # Only protobuf maps can serialize in another order than ours; check just when one could be the cause.
    if not _has_multi_entry_map(spec):
        return
    try:
        if source.stat().st_size != written.stat().st_size:
            return
        if pipeline_stages(spec):
            if _same_bytes(written, source):
                return
            reparsed = model_pb2().Model()
            reparsed.ParseFromString(source.read_bytes())
            if has_stored_fields(spec):  # compare values, not the markers standing for them
                spec = _materialized_copy(spec)
            unchanged = reparsed == spec
        else:
            unchanged = _only_root_metadata_order_differs(spec, written, source)
        if unchanged:
            with source.open("rb") as original:
                _write_atomically(written, lambda stream: shutil.copyfileobj(original, stream, _COMPARE_CHUNK))
    except OSError:
        return


_COMPARE_CHUNK = 1 << 24


def _same_bytes(a: Path, b: Path, start: int = 0, stop: int | None = None) -> bool:
    """Whether two files of equal size hold the same bytes from ``start`` to ``stop`` (default: the end)."""
    stop = a.stat().st_size if stop is None else stop
    with a.open("rb") as first, b.open("rb") as second:
        first.seek(start)
        second.seek(start)
        for offset in range(start, stop, _COMPARE_CHUNK):
            size = min(_COMPARE_CHUNK, stop - offset)
            if first.read(size) != second.read(size):
                return False
    return True


def _only_root_metadata_order_differs(spec, written: Path, source: Path) -> bool:
    """Outside a pipeline the only map is the root metadata, serialized in the head before the model body: the
    files must agree from there on, and the source's differing head must parse to the spec's."""
    head_fields = model_pb2().Model(specificationVersion=spec.specificationVersion, isUpdatable=spec.isUpdatable)
    if spec.HasField("description"):
        head_fields.description.CopyFrom(spec.description)
    head = len(serialize_spec(head_fields))
    # The small head first: when it is the same there is nothing to keep, and the rest (the weights) is not read.
    if _same_bytes(written, source, 0, head) or not _same_bytes(written, source, head):
        return False
    with source.open("rb") as original:
        source_head = original.read(head)
    reparsed = model_pb2().Model()
    try:
        reparsed.ParseFromString(source_head)
    except DecodeError:
        return False
    return reparsed == head_fields


def _materialized_copy(spec):
    copy = type(spec)()
    copy.CopyFrom(spec)
    materialize(copy)
    return copy


def _has_multi_entry_map(spec) -> bool:
    if len(spec.description.metadata.userDefined) > 1:
        return True
    return any(_has_multi_entry_map(stage) for stage in pipeline_stages(spec))
