"""Loading refuses everything that is not a Core ML model with one clear line; saving is atomic and safe."""

import os

import numpy as np
import pytest

from conftest import FIXTURES, shared_models
from mlsurgery.errors import ModelLoadError, UsageError
from mlsurgery.io import load_spec, save_spec


def test_missing_path_is_named(tmp_path):
    with pytest.raises(ModelLoadError, match=r"nope\.mlmodel: no such file"):
        load_spec(tmp_path / "nope.mlmodel")


def test_an_empty_mlpackage_folder_is_refused_for_its_missing_manifest(tmp_path):
    package = tmp_path / "Model.mlpackage"
    package.mkdir()
    with pytest.raises(ModelLoadError, match=r"Model\.mlpackage/Manifest\.json: missing") as raised:
        load_spec(package)
    assert "\n" not in str(raised.value)


def test_plain_directory(tmp_path):
    with pytest.raises(ModelLoadError, match="is a directory"):
        load_spec(tmp_path)


@pytest.mark.parametrize("content, reason", [
    (b"", "is empty"),
    (b"hello, this is not a model\n", "is a text file"),
    (os.urandom(4096), "is not a valid Core ML model"),
])
def test_not_a_model(tmp_path, content, reason):
    path = tmp_path / "bad.mlmodel"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=reason):
        load_spec(path)


def test_random_bytes_never_load(tmp_path):
    # Protobuf parses many byte strings without complaint; none of these may pass as a model.
    path = tmp_path / "random.mlmodel"
    for seed in range(200):
        path.write_bytes(bytes((seed * 7919 + i * 104729) % 251 for i in range(64 + seed)))
        with pytest.raises(ModelLoadError):
            load_spec(path)


def test_truncated_model(tmp_path):
    data = (FIXTURES / "mnist_mlp.mlmodel").read_bytes()
    path = tmp_path / "truncated.mlmodel"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="truncated"):
        load_spec(path)


@pytest.mark.parametrize("model", shared_models() + sorted(FIXTURES.glob("*.mlmodel")), ids=lambda p: p.name)
def test_load_then_save_is_byte_identical(tmp_path, model):
    out = tmp_path / "copy.mlmodel"
    save_spec(load_spec(model), out, source=model)
    assert out.read_bytes() == model.read_bytes()


def test_save_refuses_to_overwrite_the_input(fixture_copy):
    model = fixture_copy("regressor.mlmodel")
    before = model.read_bytes()
    spec = load_spec(model)
    spec.description.metadata.shortDescription = "changed"
    with pytest.raises(UsageError, match="--in-place"):
        save_spec(spec, model, source=model)
    assert model.read_bytes() == before
    save_spec(spec, model, source=model, in_place=True)
    assert load_spec(model).description.metadata.shortDescription == "changed"


def test_save_leaves_no_temp_file_and_replaces_atomically(tmp_path):
    spec = load_spec(FIXTURES / "regressor.mlmodel")
    out = tmp_path / "out.mlmodel"
    out.write_bytes(b"old")
    save_spec(spec, out)
    assert load_spec(out) == spec
    assert [p.name for p in tmp_path.iterdir()] == ["out.mlmodel"]


def test_save_into_missing_folder(tmp_path):
    spec = load_spec(FIXTURES / "regressor.mlmodel")
    with pytest.raises(UsageError, match="does not exist"):
        save_spec(spec, tmp_path / "missing" / "out.mlmodel")


def test_reordered_root_metadata_keeps_the_source_bytes_only_while_unchanged(tmp_path):
    from mlsurgery._proto import model_pb2
    from mlsurgery.io import serialize_spec

    spec = load_spec(FIXTURES / "regressor.mlmodel")
    spec.description.metadata.userDefined.update({"ka": "1", "kb": "2"})
    data = serialize_spec(spec)
    first, second = (model_pb2().Metadata(userDefined={key: value}).SerializeToString()
                     for key, value in (("ka", "1"), ("kb", "2")))
    at = data.index(first + second)
    reordered = data[:at] + second + first + data[at + len(first + second):]  # another writer's map order
    source, out = tmp_path / "source.mlmodel", tmp_path / "out.mlmodel"
    source.write_bytes(reordered)
    spec = load_spec(source)
    save_spec(spec, out, source=source)
    assert out.read_bytes() == reordered
    spec.neuralNetworkRegressor.layers[0].innerProduct.weights.floatValue[0] += 1.0  # same size, new content
    save_spec(spec, out, source=source)
    assert out.read_bytes() == serialize_spec(spec) != reordered


def test_saved_file_gets_ordinary_permissions(tmp_path):
    spec = load_spec(FIXTURES / "regressor.mlmodel")
    new = tmp_path / "new.mlmodel"
    save_spec(spec, new)
    mask = os.umask(0)
    os.umask(mask)
    assert new.stat().st_mode & 0o777 == 0o666 & ~mask
    existing = tmp_path / "existing.mlmodel"
    existing.write_bytes(b"old")
    existing.chmod(0o640)
    save_spec(spec, existing)
    assert existing.stat().st_mode & 0o777 == 0o640


def test_negative_specification_version_loads_because_core_ml_accepts_it(tmp_path):
    # Core ML only rejects a version of 0 or one newer than it knows (Model.cpp, validateGeneric).
    from mlsurgery.validate import validate_spec

    spec = load_spec(FIXTURES / "regressor.mlmodel")
    spec.specificationVersion = -3
    path = tmp_path / "negative.mlmodel"
    save_spec(spec, path)
    assert validate_spec(load_spec(path)).valid


@pytest.mark.parametrize("stop", [b"\x0c", b"\x00", b"\x0c" + os.urandom(64)], ids=["end-group", "zero", "garbage"])
def test_data_after_a_stop_key_is_ignored_as_core_ml_does(tmp_path, stop):
    # Core ML's C++ parser ends the message at a zero or stray END_GROUP key (mlmodel/src/Utils.hpp).
    data = (FIXTURES / "regressor.mlmodel").read_bytes()
    path = tmp_path / "trailing.mlmodel"
    path.write_bytes(data + stop)
    assert load_spec(path) == load_spec(FIXTURES / "regressor.mlmodel")


def test_a_stop_key_before_the_model_leaves_no_model(tmp_path):
    path = tmp_path / "early-stop.mlmodel"
    path.write_bytes(b"\x08\x01\x0c" + (FIXTURES / "regressor.mlmodel").read_bytes())
    with pytest.raises(ModelLoadError, match="not a valid Core ML model"):
        load_spec(path)


# --- what protobuf or mlsurgery cannot represent: refused in one line, exit 2 ---------------------------------

def test_a_file_over_2_gib_is_refused_before_it_is_read(tmp_path, run_cli):
    huge = tmp_path / "huge.mlmodel"
    with huge.open("wb") as stream:
        stream.truncate(2**31 + 5)  # sparse: costs no disk space, and nothing reads its 2 GiB of zeros
    with pytest.raises(ModelLoadError) as refused:
        load_spec(huge)
    assert "2.0 GiB, over the 2 GiB protobuf can parse" in str(refused.value)
    for command in (["inspect"], ["validate"], ["make-updatable", "--layers", "auto", "-o", tmp_path / "o.mlmodel"],
                    ["predict", "--random-inputs"]):
        result = run_cli(command[0], huge, *command[1:])
        assert result.exit_code == 2 and "2 GiB" in result.stderr + result.stdout
        assert "Traceback" not in result.stderr




def test_a_save_starts_writeback_of_every_range_it_wrote(tmp_path, monkeypatch):
    """The kernel is asked to write the file out as it grows, so the closing fsync has little left."""
    import mlsurgery.io as io_module
    from mlsurgery.weights import set_float_values

    started = []
    monkeypatch.setattr(io_module, "_sync_file_range", lambda: lambda fd, offset, length: started.append(
        (offset, length, os.fstat(fd).st_size)))
    monkeypatch.setattr(io_module, "WRITEBACK_BYTES", 1 << 16)
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    set_float_values(spec.neuralNetworkClassifier.layers[1].innerProduct.weights, np.arange(100_000, dtype=np.float32))
    written = save_spec(spec, tmp_path / "out.mlmodel").stat().st_size
    assert started and started[0][0] == 0
    assert all(offset + length == following for (offset, length, _), (following, _, _) in zip(started, started[1:]))
    assert all(length >= 1 << 16 and offset + length <= size for offset, length, size in started)
    assert started[-1][0] + started[-1][1] > written - (1 << 16)


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="sync_file_range is Linux's")
def test_sync_file_range_is_found_on_linux(tmp_path):
    from mlsurgery.io import _sync_file_range

    start = _sync_file_range()
    assert start is not None
    with open(tmp_path / "file", "wb") as stream:
        stream.write(b"x" * 10_000)
        stream.flush()
        start(stream.fileno(), 0, 10_000)
