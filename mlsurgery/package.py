"""Reading an ``.mlpackage`` folder: the root model its manifest names, and the weight files its spec points into.

An ``.mlpackage`` (coremltools 5+; every ML Program is saved as one) is a folder::

    Model.mlpackage/
        Manifest.json                    fileFormatVersion, rootModelIdentifier, itemInfoEntries {id: {path, …}}
        Data/com.apple.CoreML/model.mlmodel        the root model's spec (the item the manifest names)
        Data/com.apple.CoreML/weights/weight.bin   an ML Program's weights, in MIL blob storage format

Facts, as apple/coremltools states them: the manifest keys, its format version (1.0.0) and the ``Data`` folder
(modelpackage/src/ModelPackage.cpp, ``kModelPackage*``: an item's path is relative to ``Data``); an ML Program's ``const`` values
name their file ``@model_path/weights/weight.bin``, ``@model_path`` being the root model's folder
(coremltools/converters/mil/backend/mil/load.py), with the byte offset of the blob's metadata; the weight file
layout (mlmodel/src/MILBlob/Blob/StorageFormat.hpp): a 64-byte ``storage_header`` (uint32 count, uint32 version = 2,
reserved) then, 64-byte aligned, per blob a 64-byte ``blob_metadata`` (uint32 sentinel 0xDEADBEEF, uint32
``BlobDataType``, uint64 sizeInBytes, uint64 offset of the data, uint64 padding_size_in_bits, reserved) and its
data. Core ML reads the data at [offset, offset + sizeInBytes) of the mapped file (MMapFileReader::ReadData), so
a blob past the file's end is a broken package, which we refuse before anything reads it.

This module only locates and checks; ``io.load_spec`` parses the spec it finds.
"""

from __future__ import annotations

import json
import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelLoadError

MANIFEST = "Manifest.json"
SUPPORTED_FORMAT_VERSION = (1, 0, 0)
DATA_FOLDER = "Data"
# The prefix of every weight file name in an ML Program: the folder holding the root model's spec.
MODEL_PATH_PREFIX = "@model_path/"

STORAGE_VERSION = 2
HEADER = struct.Struct("<II")              # storage_header: count, version (then 56 reserved bytes)
BLOB_METADATA = struct.Struct("<IIQQQ")    # sentinel, mil_dtype, sizeInBytes, offset, padding_size_in_bits
BLOB_METADATA_SIZE = 64
BLOB_SENTINEL = 0xDEADBEEF
# BlobDataType (mlmodel/src/MILBlob/Blob/BlobDataType.hpp), by value.
BLOB_DATA_TYPES = {1: "float16", 2: "float32", 3: "uint8", 4: "int8", 5: "bfloat16", 6: "int16", 7: "uint16",
                   8: "int4", 9: "uint1", 10: "uint2", 11: "uint4", 12: "uint3", 13: "uint6", 14: "int32",
                   15: "uint32", 16: "float8e4m3fn", 17: "float8e5m2"}


@dataclass(frozen=True)
class Package:
    """Where an ``.mlpackage``'s parts are."""

    path: Path        # the .mlpackage folder
    spec_file: Path   # the root model's spec, Data/<the manifest's path>

    @property
    def model_folder(self) -> Path:
        """What ``@model_path`` stands for in the spec's weight file names."""
        return self.spec_file.parent


def is_package(path: Path) -> bool:
    """A folder that is (or claims to be) an ``.mlpackage``."""
    return path.is_dir() and (path.suffix.lower() == ".mlpackage" or (path / MANIFEST).is_file())


def zipped_package_refusal(path: Path) -> str | None:
    """Why a file is not a package though named like one (``X.mlpackage`` as a file, ``X.mlpackage.zip``), or
    None. Browsers and AirDrop hand packages around zipped; Core ML reads only the folder."""
    name = path.name.lower()
    if name.endswith(".mlpackage.zip") or (name.endswith(".zip") and _zip_holds_package(path)):
        return (f"{path}: is a zip of an .mlpackage; unzip it (unzip '{path}') and give the .mlpackage folder it "
                "holds")
    if name.endswith(".mlpackage"):
        what = "a zip of an .mlpackage" if _zip_holds_package(path) else "a file"
        return (f"{path}: is {what}, but an .mlpackage is a folder (Manifest.json and Data/); unzip it or give "
                "the package folder")
    return None


def _zip_holds_package(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return any(Path(name).name == MANIFEST for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def open_package(path: Path) -> Package:
    """The package at ``path`` with its root model located through ``Manifest.json``; refuses, naming the file and
    what is wrong, a package without a manifest, with a manifest that is not JSON or names no root model, or
    whose root model file is missing."""
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ModelLoadError(f"{manifest_path}: missing; an .mlpackage holds a {MANIFEST} naming its root model "
                             "(re-save the package with coremltools)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelLoadError(f"{manifest_path}: is not valid JSON ({_first_line(error)}); re-save the package "
                             "with coremltools") from None
    _check_format_version(manifest, manifest_path)
    root = manifest.get("rootModelIdentifier") if isinstance(manifest, dict) else None
    entries = manifest.get("itemInfoEntries") if isinstance(manifest, dict) else None
    entry = entries.get(root) if isinstance(entries, dict) and isinstance(root, str) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
        raise ModelLoadError(f"{manifest_path}: names no root model (rootModelIdentifier must be a key of "
                             "itemInfoEntries whose entry has a path); re-save the package with coremltools")
    relative = Path(entry["path"])
    # A manifest is data: a path that climbs out of Data/ is not followed.
    if relative.is_absolute() or ".." in relative.parts:
        raise ModelLoadError(f"{manifest_path}: root model path {entry['path']!r} leaves the package's "
                             f"{DATA_FOLDER} folder; re-save the package with coremltools")
    spec_file = path / DATA_FOLDER / relative
    if not spec_file.is_file():
        raise ModelLoadError(f"{spec_file}: missing; {MANIFEST} names it as the package's root model")
    return Package(path, spec_file)


def _check_format_version(manifest, manifest_path: Path) -> None:
    """ModelPackage.cpp reads manifests up to fileFormatVersion 1.0.0 (``kModelPackageFileFormat*Version``) and
    refuses a missing, malformed or newer one."""
    version = manifest.get("fileFormatVersion") if isinstance(manifest, dict) else None
    parts = version.split(".") if isinstance(version, str) else []
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ModelLoadError(f"{manifest_path}: fileFormatVersion {version!r} is not major.minor.patch; re-save "
                             "the package with coremltools")
    if tuple(int(part) for part in parts) > SUPPORTED_FORMAT_VERSION:
        raise ModelLoadError(f"{manifest_path}: fileFormatVersion {version} is newer than the "
                             f"{'.'.join(map(str, SUPPORTED_FORMAT_VERSION))} Core ML's package reader knows; "
                             "re-save the package with coremltools 9")


@dataclass(frozen=True)
class BlobReference:
    """One weight value of an ML Program: which file, the offset of its metadata, and the op that holds it."""

    file_name: str   # as the spec states it, e.g. @model_path/weights/weight.bin
    offset: int
    op_output: str   # the first output of the op holding the value, to name it in messages


def blob_references(program) -> Iterator[BlobReference]:
    """Every blob-file value of an ML Program (``Model.mlProgram``), in every function, block and nested block."""
    def values_of(operation):
        for value in operation.attributes.values():
            yield value
        for argument in operation.inputs.values():
            for binding in argument.arguments:
                if binding.WhichOneof("binding") == "value":
                    yield binding.value

    def walk(block):
        for operation in block.operations:
            op_output = operation.outputs[0].name if operation.outputs else operation.type
            for value in values_of(operation):
                if value.WhichOneof("value") == "blobFileValue":
                    yield BlobReference(value.blobFileValue.fileName, value.blobFileValue.offset, op_output)
            for nested in operation.blocks:
                yield from walk(nested)

    for function in program.functions.values():
        for block in function.block_specializations.values():
            yield from walk(block)


def check_weights(spec, package: Package) -> Path | None:
    """Check every weight an ML Program spec points at, and return the folder holding its weight files (None
    when it has none); refuses in one line a weight file that is missing or outside the package, a file that is
    not MIL blob storage, and a blob whose metadata or data lies past the file's end."""
    files: dict[Path, list[BlobReference]] = {}
    for reference in blob_references(spec.mlProgram):
        files.setdefault(_weight_file(reference, package), []).append(reference)
    for path, references in files.items():
        _check_blob_file(path, references, package)
    if not files:
        return None
    folders = {path.parent for path in files}
    if len(folders) > 1:
        raise ModelLoadError(f"{package.path}: its weight files lie in {len(folders)} folders "
                             f"({', '.join(sorted(str(f.relative_to(package.path)) for f in folders))}); "
                             "mlsurgery reads one weights folder per package")
    return folders.pop()


def _weight_file(reference: BlobReference, package: Package) -> Path:
    name = reference.file_name
    relative = Path(name[len(MODEL_PATH_PREFIX):]) if name.startswith(MODEL_PATH_PREFIX) else None
    if relative is None or relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ModelLoadError(f"{package.spec_file}: op {reference.op_output!r} reads weights from {name!r}, "
                             f"which is not a file inside the package ({MODEL_PATH_PREFIX}…); re-save it with "
                             "coremltools")
    path = package.model_folder / relative
    if not path.is_file():
        raise ModelLoadError(f"{path}: missing; op {reference.op_output!r} of {package.spec_file.name} reads its "
                             "weights from it (the package is incomplete: copy it again whole)")
    return path


def _check_blob_file(path: Path, references: list[BlobReference], package: Package) -> None:
    try:
        with path.open("rb") as stream:
            size = path.stat().st_size
            if size < BLOB_METADATA_SIZE:
                raise ModelLoadError(f"{path}: is {size} bytes, shorter than the 64-byte header of MIL blob "
                                     "storage; the package is truncated, copy it again whole")
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
                _, version = HEADER.unpack_from(data, 0)
                if version != STORAGE_VERSION:
                    raise ModelLoadError(f"{path}: is not MIL blob storage version {STORAGE_VERSION} (header says "
                                         f"version {version}); re-save the package with coremltools")
                for reference in references:
                    _check_blob(data, size, path, reference)
    except OSError as error:
        raise ModelLoadError(f"{path}: cannot be read ({error.strerror})") from None


def _check_blob(data, size: int, path: Path, reference: BlobReference) -> None:
    where = f"{path}: op {reference.op_output!r}"
    if reference.offset + BLOB_METADATA_SIZE > size:
        raise ModelLoadError(f"{where} reads weights at offset {reference.offset}, past the file's end ({size} "
                             "bytes); the weight file is truncated or from another model: copy the package again")
    sentinel, data_type, length, offset, _ = BLOB_METADATA.unpack_from(data, reference.offset)
    if sentinel != BLOB_SENTINEL:
        raise ModelLoadError(f"{where} reads weights at offset {reference.offset}, where no blob starts (no "
                             "0xDEADBEEF sentinel); the weight file does not belong to this spec")
    if offset + length > size:
        raise ModelLoadError(f"{where}: its {length}-byte {BLOB_DATA_TYPES.get(data_type, 'blob')} data at offset "
                             f"{offset} runs past the file's end ({size} bytes); the weight file is truncated: "
                             "copy the package again")


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
