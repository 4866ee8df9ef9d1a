"""Reading and writing ``.mlmodel`` files: clear one-line errors on load, atomic writes on save."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from google.protobuf.message import DecodeError

from ._proto import model_pb2
from .errors import ModelLoadError, UsageError
from .graph import pipeline_stages



def load_spec(path: str | os.PathLike):
    """Load a ``.mlmodel`` file into a ``Model`` protobuf message, or raise ``ModelLoadError`` saying why not."""
    path = Path(path)
    if not path.exists():
        raise ModelLoadError(f"{path}: no such file")
    if path.is_dir():
        if path.suffix == ".mlpackage" or (path / "Manifest.json").exists():
            raise ModelLoadError(
                f"{path}: is an .mlpackage (ML Program); Core ML cannot train ML Programs on device — "
                "convert the source model with coremltools.convert(..., convert_to=\"neuralnetwork\") "
                "to get an .mlmodel"
            )
        raise ModelLoadError(f"{path}: is a directory; give the path of an .mlmodel file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelLoadError(f"{path}: cannot be read ({error.strerror})") from None
    return parse_spec(data, source=str(path))


def parse_spec(data: bytes, source: str = "<bytes>"):
    """Parse serialized spec bytes, rejecting input that is not recognisably a Core ML model."""
    if not data:
        raise ModelLoadError(f"{source}: is empty (0 bytes); it is not a Core ML model")
    spec = model_pb2().Model()
    try:
        spec.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError):
        raise ModelLoadError(f"{source}: {_not_a_model_reason(data)}") from None
    # Protobuf happily parses many byte strings (unknown fields are kept), so a successful parse is not
    # proof: a real model always states a specification version and exactly one model type.
    if spec.specificationVersion <= 0 or spec.WhichOneof("Type") is None:
        raise ModelLoadError(f"{source}: {_not_a_model_reason(data)}")
    return spec


def _not_a_model_reason(data: bytes) -> str:
    head = data[:4096]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.strip() and all(ch.isprintable() or ch.isspace() for ch in text):
        return "is a text file, not a Core ML model; an .mlmodel is a binary protobuf written by coremltools"
    return ("is not a valid Core ML model (the protobuf is corrupt, truncated or not a Model spec); "
            "re-export it with coremltools")


def serialize_spec(spec) -> bytes:
    """The bytes mlsurgery writes: deterministic, so the same spec always gives the same file."""
    return spec.SerializeToString(deterministic=True)


def save_spec(spec, path: str | os.PathLike, *, source: str | os.PathLike | None = None,
              in_place: bool = False) -> Path:
    """Write ``spec`` to ``path`` atomically (temp file in the same folder, fsync, rename).

    ``source`` is the file the spec was loaded from: writing over it is refused unless ``in_place``. When the
    spec is unchanged from ``source`` the source's exact bytes are kept, so load → save is byte-identical even
    for files whose metadata maps another writer ordered differently.
    """
    path = Path(path)
    if source is not None and not in_place and _same_file(path, Path(source)):
        raise UsageError(f"{path}: output is the input model; choose another -o path or pass --in-place")
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; give an output file path ending in .mlmodel")
    if not path.parent.exists():
        raise UsageError(f"{path}: folder {path.parent} does not exist")
    data = serialize_spec(spec)
    if source is not None:
        data = _keep_source_bytes_if_unchanged(spec, data, Path(source))
    write_bytes_atomically(data, path)
    return path


def write_bytes_atomically(data: bytes, path: Path) -> None:
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _keep_source_bytes_if_unchanged(spec, data: bytes, source: Path) -> bytes:
    # Only protobuf maps can serialize in another order than ours; check just when one could be the cause.
    if not _has_multi_entry_map(spec):
        return data
    try:
        if source.stat().st_size != len(data):
            return data
        original = source.read_bytes()
    except OSError:
        return data
    reparsed = model_pb2().Model()
    reparsed.ParseFromString(original)
    return original if serialize_spec(reparsed) == data else data


def _has_multi_entry_map(spec) -> bool:
    if len(spec.description.metadata.userDefined) > 1:
        return True
    return any(_has_multi_entry_map(stage) for stage in pipeline_stages(spec))
