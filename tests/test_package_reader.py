"""Reading .mlpackage folders: the root model through Manifest.json, weights checked where the spec points, and
a one-line refusal (exit 2, nothing written) for every way a package can be broken."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile

import pytest

from conftest import FIXTURES
from mlsurgery.errors import ModelLoadError
from mlsurgery.io import load_package, load_spec
from packages import SPEC, WEIGHTS, copy_package, ml_program_package, network_package


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    return ml_program_package(tmp_path_factory.mktemp("program"))


def test_an_ml_program_loads_with_its_weights_folder(program):
    loaded = load_package(program)
    assert loaded.spec.WhichOneof("Type") == "mlProgram"
    assert loaded.package.spec_file == program / SPEC
    assert loaded.weights_dir == (program / WEIGHTS).parent
    assert load_spec(program) == loaded.spec


def test_the_weight_file_header_is_read_as_mil_blob_storage(program):
    # Independent of mlsurgery's reader: the first blob's metadata (StorageFormat.hpp) as coremltools wrote it,
    # for the first layer's 16 × 8 fp16 weight matrix.
    data = (program / WEIGHTS).read_bytes()
    count, version = struct.unpack_from("<II", data, 0)
    assert version == 2 and count >= 1
    sentinel, data_type, size, offset = struct.unpack_from("<IIQQ", data, 64)
    assert (sentinel, data_type, size) == (0xDEADBEEF, 1, 16 * 8 * 2)
    assert offset + size <= len(data)


def test_the_root_model_is_where_the_manifest_says(program, tmp_path):
    package = copy_package(program, tmp_path)
    moved = package / "Data" / "elsewhere" / "root.mlmodel"
    moved.parent.mkdir()
    (package / SPEC).rename(moved)
    shutil.move(str(package / WEIGHTS.parent), str(moved.parent / "weights"))
    manifest = json.loads((package / "Manifest.json").read_text())
    manifest["itemInfoEntries"][manifest["rootModelIdentifier"]]["path"] = "elsewhere/root.mlmodel"
    (package / "Manifest.json").write_text(json.dumps(manifest))
    assert load_package(package).weights_dir == moved.parent / "weights"


def _manifest(package, text):
    (package / "Manifest.json").write_text(text)


def _root_entry(package):
    manifest = json.loads((package / "Manifest.json").read_text())
    return manifest, manifest["itemInfoEntries"][manifest["rootModelIdentifier"]]


def _break_no_manifest(package):
    (package / "Manifest.json").unlink()


def _break_manifest_not_json(package):
    _manifest(package, "{not json")


def _break_no_root_model(package):
    manifest, _ = _root_entry(package)
    del manifest["rootModelIdentifier"]
    _manifest(package, json.dumps(manifest))


def _break_root_path_leaves_package(package):
    manifest, entry = _root_entry(package)
    entry["path"] = "../../model.mlmodel"
    _manifest(package, json.dumps(manifest))


def _break_newer_format(package):
    manifest, _ = _root_entry(package)
    manifest["fileFormatVersion"] = "2.0.0"
    _manifest(package, json.dumps(manifest))


def _break_format_not_a_version(package):
    manifest, _ = _root_entry(package)
    manifest["fileFormatVersion"] = "one"
    _manifest(package, json.dumps(manifest))


def _break_root_model_missing(package):
    (package / SPEC).unlink()


def _break_weight_file_missing(package):
    (package / WEIGHTS).unlink()


def _break_metadata_past_end(package):
    (package / WEIGHTS).write_bytes((package / WEIGHTS).read_bytes()[:100])


def _break_data_past_end(package):
    (package / WEIGHTS).write_bytes((package / WEIGHTS).read_bytes()[:-40])


def _break_sentinel(package):
    data = bytearray((package / WEIGHTS).read_bytes())
    data[64:68] = b"\0\0\0\0"
    (package / WEIGHTS).write_bytes(bytes(data))


def _break_storage_version(package):
    data = bytearray((package / WEIGHTS).read_bytes())
    data[4:8] = struct.pack("<I", 7)
    (package / WEIGHTS).write_bytes(bytes(data))


def _break_spec_not_a_model(package):
    (package / SPEC).write_bytes(b"garbage, not a protobuf\n")


BROKEN = {
    _break_no_manifest: r"Manifest\.json: missing",
    _break_manifest_not_json: r"Manifest\.json: is not valid JSON",
    _break_no_root_model: r"Manifest\.json: names no root model",
    _break_root_path_leaves_package: r"Manifest\.json: root model path '\.\./\.\./model\.mlmodel' leaves",
    _break_newer_format: r"Manifest\.json: fileFormatVersion 2\.0\.0 is newer than the 1\.0\.0",
    _break_format_not_a_version: r"Manifest\.json: fileFormatVersion 'one' is not major\.minor\.patch",
    _break_root_model_missing: r"model\.mlmodel: missing; Manifest\.json names it",
    _break_weight_file_missing: r"weights/weight\.bin: missing; op '\w+' of model\.mlmodel reads",
    _break_metadata_past_end: r"weight\.bin: op '\w+' reads weights at offset \d+, past the file's end \(100 bytes\)",
    _break_data_past_end: r"weight\.bin: op '\w+': its \d+-byte float16 data at offset \d+ runs past the file's end",
    _break_sentinel: r"weight\.bin: op '\w+' reads weights at offset 64, where no blob starts",
    _break_storage_version: r"weight\.bin: is not MIL blob storage version 2 \(header says version 7\)",
    _break_spec_not_a_model: r"model\.mlmodel: is a text file",
}


@pytest.mark.parametrize("damage", BROKEN, ids=lambda damage: damage.__name__.removeprefix("_break_"))
def test_a_broken_package_is_refused_in_one_line_and_nothing_is_written(program, tmp_path, run_cli, damage):
    package = copy_package(program, tmp_path)
    damage(package)
    with pytest.raises(ModelLoadError, match=BROKEN[damage]):
        load_spec(package)
    writing = [("make-updatable", "--layers", "auto", "--fix"), ("convert",)]
    for command in [("inspect",), *writing]:
        output = tmp_path / "out.mlmodel"
        result = run_cli(*command, package, *(["-o", output] if command in writing else []))
        assert result.exit_code == 2, (command, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert not output.exists()
    validated = run_cli("validate", package)  # validate lists unloadable files in its report, as for .mlmodel
    assert validated.exit_code == 2 and "Traceback" not in validated.stdout + validated.stderr




@pytest.mark.parametrize("name", ["Model.mlpackage.zip", "Model.mlpackage", "download.zip"])
def test_a_zipped_package_is_refused_saying_to_unzip_it(program, tmp_path, run_cli, name):
    archive = tmp_path / name
    with zipfile.ZipFile(archive, "w") as writing:
        for path in program.rglob("*"):
            writing.write(path, "Model.mlpackage/" + str(path.relative_to(program)))
    with pytest.raises(ModelLoadError, match=r"is a zip of an \.mlpackage; unzip it|is a zip of an \.mlpackage, but"):
        load_spec(archive)
    output = tmp_path / "out.mlmodel"
    result = run_cli("make-updatable", archive, "-o", output)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and not output.exists()


def test_any_zip_given_as_a_model_is_named_a_zip(tmp_path):
    archive = tmp_path / "model.mlmodel"
    with zipfile.ZipFile(archive, "w") as writing:
        writing.writestr("model.mlmodel", b"x")
    with pytest.raises(ModelLoadError, match="is a zip archive, not a Core ML model; unzip it"):
        load_spec(archive)


def test_a_package_holding_a_network_loads_as_its_spec_file_does(tmp_path):
    package = network_package(FIXTURES / "mnist_mlp.mlmodel", tmp_path)
    assert load_spec(package) == load_spec(FIXTURES / "mnist_mlp.mlmodel")
    assert load_package(package).weights_dir is None


def test_a_plain_folder_is_no_package(tmp_path, run_cli):
    result = run_cli("make-updatable", tmp_path, "-o", tmp_path / "out.mlmodel")
    assert result.exit_code == 2 and "is a directory; give the path of an .mlmodel file or an .mlpackage folder" \
        in result.stderr
