"""The small package reader of ``mlsurgery convert``: Manifest.json → root spec and weights folder."""

from __future__ import annotations

import json

import pytest

from mlpackages import save_package, torch

from mlsurgery.errors import ModelLoadError
from mlsurgery.mlprogram.package import read_package


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    import coremltools as ct

    path = tmp_path_factory.mktemp("package") / "model.mlpackage"
    # 128 weights: more than coremltools writes inline, so the package has a weight file
    return save_package(torch.nn.Linear(16, 8), [torch.randn(1, 16)], [ct.TensorType(name="x", shape=(1, 16))],
                        path)


def test_reads_root_spec_and_weights(package):
    spec, weights = read_package(package)
    assert spec.WhichOneof("Type") == "mlProgram"
    assert [f.name for f in spec.description.input] == ["x"]
    assert weights == package / "Data" / "com.apple.CoreML" / "weights" and (weights / "weight.bin").is_file()


def test_follows_the_manifest(package, tmp_path):
    """The root model is where Manifest.json says, not at a fixed path."""
    import shutil

    moved = tmp_path / "moved.mlpackage"
    shutil.copytree(package, moved)
    data = moved / "Data" / "com.apple.CoreML"
    (data / "model.mlmodel").rename(data / "renamed.mlmodel")
    manifest = json.loads((moved / "Manifest.json").read_text())
    for entry in manifest["itemInfoEntries"].values():
        if entry["path"].endswith("model.mlmodel"):
            entry["path"] = "com.apple.CoreML/renamed.mlmodel"
    (moved / "Manifest.json").write_text(json.dumps(manifest))
    spec, _ = read_package(moved)
    assert spec.WhichOneof("Type") == "mlProgram"


@pytest.mark.parametrize("damage, expected", [
    ("no manifest", "Manifest.json: missing"),
    ("manifest without root", "does not name a root model"),
    ("root outside Data", "leaves the package's Data folder"),
    ("no spec", "model.mlmodel: missing"),
])
def test_broken_packages_are_refused_in_one_line(package, tmp_path, damage, expected):
    import shutil

    broken = tmp_path / "broken.mlpackage"
    shutil.copytree(package, broken)
    manifest_file = broken / "Manifest.json"
    manifest = json.loads(manifest_file.read_text())
    if damage == "no manifest":
        manifest_file.unlink()
    elif damage == "manifest without root":
        del manifest["rootModelIdentifier"]
        manifest_file.write_text(json.dumps(manifest))
    elif damage == "root outside Data":
        manifest["itemInfoEntries"][manifest["rootModelIdentifier"]]["path"] = "../../elsewhere.mlmodel"
        manifest_file.write_text(json.dumps(manifest))
    else:
        (broken / "Data" / "com.apple.CoreML" / "model.mlmodel").unlink()
    with pytest.raises(ModelLoadError) as refused:
        read_package(broken)
    assert expected in str(refused.value) and "\n" not in str(refused.value)
