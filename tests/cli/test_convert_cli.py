"""`mlsurgery convert` end to end: an ML Program package becomes a valid NeuralNetwork .mlmodel that
make-updatable accepts; what cannot be converted is one line, exit 2, nothing written."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "mlprogram"))
from mlpackages import save_package, save_program, torch  # noqa: E402
from zoo import SoftmaxCNN  # noqa: E402

LABELS = ["cat", "dog", "fish"]


@pytest.fixture(scope="module")
def classifier_package(tmp_path_factory):
    """An fp16 image classifier as coremltools 9 writes it by default (ML Program, iOS 16)."""
    import coremltools as ct

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("cli") / "Classifier.mlpackage"
    return save_package(SoftmaxCNN(), [torch.rand(1, 3, 10, 10)],
                        [ct.ImageType(name="image", shape=(1, 3, 10, 10), scale=1 / 255)], path, fp16=True,
                        target="iOS16", classifier_labels=LABELS)


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_convert_writes_a_valid_classifier_beside_the_package(run_cli, classifier_package, tmp_path):
    import shutil

    package = shutil.copytree(classifier_package, tmp_path / "Classifier.mlpackage")
    before = _digest(package)
    result = run_cli("convert", package)
    assert result.exit_code == 0, result.stderr
    written = tmp_path / "Classifier.mlmodel"
    assert f"wrote {written}" in " ".join(result.stdout.split())
    assert "classify → neuralNetworkClassifier" in result.stdout
    spec = load_spec(written)
    assert spec.WhichOneof("Type") == "neuralNetworkClassifier"
    assert list(spec.neuralNetworkClassifier.stringClassLabels.vector) == LABELS
    assert validate_spec(spec).valid
    assert _digest(package) == before  # the input is never changed
    assert "coremltools" not in result.stderr  # its import-time warnings and progress bars are held back


def test_converted_classifier_becomes_updatable(run_cli, classifier_package, tmp_path):
    converted = tmp_path / "Classifier.mlmodel"
    assert run_cli("convert", classifier_package, "-o", converted).exit_code == 0
    updatable = tmp_path / "Updatable.mlmodel"
    result = run_cli("make-updatable", converted, "--layers", "auto", "-o", updatable)
    assert result.exit_code == 0, result.stderr
    spec = load_spec(updatable)
    assert spec.isUpdatable and validate_spec(spec).valid
    layers = spec.neuralNetworkClassifier.layers
    assert any(layer.isUpdatable for layer in layers)


def test_dry_run_writes_nothing(run_cli, classifier_package, tmp_path):
    out = tmp_path / "out.mlmodel"
    result = run_cli("convert", classifier_package, "-o", out, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert not out.exists()


def test_keep_fp16_is_smaller(run_cli, classifier_package, tmp_path):
    full, half = tmp_path / "full.mlmodel", tmp_path / "half.mlmodel"
    assert run_cli("convert", classifier_package, "-o", full).exit_code == 0
    assert run_cli("convert", classifier_package, "-o", half, "--keep-fp16").exit_code == 0
    assert validate_spec(load_spec(half)).valid
    assert half.stat().st_size < full.stat().st_size


@pytest.fixture(scope="module")
def quantized_package(tmp_path_factory):
    """Activation quantization (iOS 17 quantize / dequantize ops), which no NeuralNetwork layer computes."""
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 4))], opset_version=ct.target.iOS17)
    def program(x):
        return mb.dequantize(input=mb.quantize(input=x, scale=np.float32(0.1), output_dtype="int8"),
                             scale=np.float32(0.1))

    return save_program(program, tmp_path_factory.mktemp("cli") / "Quantized.mlpackage")


def test_unconvertible_op_is_one_line_exit_2_nothing_written(run_cli, quantized_package, tmp_path):
    out = tmp_path / "out.mlmodel"
    result = run_cli("convert", quantized_package, "-o", out)
    assert result.exit_code == 2
    assert "op 'quantize'" in result.stderr and "no NeuralNetwork layer" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_package_is_one_line_exit_2(run_cli, tmp_path):
    result = run_cli("convert", tmp_path / "nope.mlpackage", "-o", tmp_path / "out.mlmodel")
    assert result.exit_code == 2
    assert "nope.mlpackage" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_keep_fp16_then_split_gives_a_frozen_fp16_stage_and_an_updatable_head(run_cli, classifier_package,
                                                                               tmp_path):
    from mlsurgery.network import pipeline_stages

    half = tmp_path / "half.mlmodel"
    assert run_cli("convert", classifier_package, "-o", half, "--keep-fp16").exit_code == 0
    layers = load_spec(half).neuralNetworkClassifier.layers
    head_input = next(layer for layer in layers if layer.WhichOneof("layer") == "innerProduct").input[0]
    split = tmp_path / "split.mlmodel"
    result = run_cli("split", half, "--at", head_input, "-o", split)
    assert result.exit_code == 0, result.stderr
    spec = load_spec(split)
    assert spec.isUpdatable and validate_spec(spec).valid
    frozen, head = pipeline_stages(spec)
    assert any(layer.convolution.weights.float16Value for layer in frozen.neuralNetwork.layers)
    assert any(layer.isUpdatable for layer in head.neuralNetworkClassifier.layers)


def test_json_output_names_what_was_written(run_cli, classifier_package, tmp_path):
    import json

    out = tmp_path / "out.mlmodel"
    result = run_cli("convert", classifier_package, "-o", out, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["written"] == str(out) and report["valid"] is True
    assert report["type"] == "neuralNetworkClassifier" and report["specification_version"] == 4
    assert any("3 class labels kept" in note for note in report["notes"])
