"""mlsurgery predict: every NeuralNetwork-family fixture runs on random inputs or is refused in one line; JSON
shape; inputs from files; PyTorch is loaded only by commands that run models."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import FIXTURES, ROOT, SHARED_MODELS, shared_models

ALL_MODELS = sorted(FIXTURES.glob("*.mlmodel")) + shared_models()


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda path: path.name)
def test_every_fixture_runs_or_is_refused_in_one_line(run_cli, model):
    result = run_cli("predict", model, "--random-inputs", "--format", "json")
    if result.exit_code == 0:
        outputs = json.loads(result.stdout)
        assert outputs, "a model that runs must produce its outputs"
        return
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlsurgery: error: "), result.stderr
    assert "is not implemented by the engine" in lines[0] or "computation is not in the spec" in lines[0]


def test_json_of_a_classifier_has_the_label_and_a_probability_object(run_cli):
    result = run_cli("predict", FIXTURES / "mnist_mlp.mlmodel", "--random-inputs", "--format", "json")
    outputs = json.loads(result.stdout)
    probabilities = outputs["labelProbabilities"]
    assert sorted(probabilities, key=int) == [str(digit) for digit in range(10)]
    assert abs(sum(probabilities.values()) - 1) < 1e-5
    best = max(probabilities, key=probabilities.get)
    assert str(outputs["classLabel"]) == best


def test_input_from_npy_file_matches_the_python_api(run_cli, tmp_path):
    from mlsurgery.engine import build_model
    from mlsurgery.io import load_spec

    values = np.random.default_rng(0).standard_normal(8).astype(np.float32)
    np.save(tmp_path / "features.npy", values)
    result = run_cli("predict", FIXTURES / "regressor.mlmodel", "--input", f"features={tmp_path / 'features.npy'}",
                     "--format", "json")
    assert result.exit_code == 0, result.stderr
    expected = build_model(load_spec(FIXTURES / "regressor.mlmodel")).predict({"features": values})
    np.testing.assert_allclose(json.loads(result.stdout)["target"], expected["target"], atol=1e-7)


def test_table_shows_the_top_classes(run_cli):
    result = run_cli("predict", FIXTURES / "mnist_mlp.mlmodel", "--random-inputs", "--top", "3")
    assert result.exit_code == 0, result.stderr
    assert "top 3 of 10 classes" in result.stdout


def test_an_input_of_the_wrong_shape_is_a_one_line_error(run_cli, tmp_path):
    np.save(tmp_path / "wrong.npy", np.zeros(5, dtype=np.float32))
    result = run_cli("predict", FIXTURES / "regressor.mlmodel", "--input", f"features={tmp_path / 'wrong.npy'}")
    assert result.exit_code == 2
    assert "'features' must have shape [8]" in result.stderr


def test_a_pipeline_with_vision_feature_print_takes_its_output_as_features(run_cli, tmp_path):
    from mlsurgery.io import load_spec

    spec = load_spec(SHARED_MODELS / "healthysnacks_pipeline.mlmodel")
    stage = spec.pipelineClassifier.pipeline.models[0]
    feature = stage.description.output[0]
    size = int(np.prod(list(feature.type.multiArrayType.shape)))
    np.save(tmp_path / "print.npy", np.random.default_rng(1).random(size).astype(np.float32))
    result = run_cli("predict", SHARED_MODELS / "healthysnacks_pipeline.mlmodel",
                     "--features", f"{feature.name}={tmp_path / 'print.npy'}", "--format", "json")
    assert result.exit_code == 0, result.stderr
    outputs = json.loads(result.stdout)
    labels = list(spec.pipelineClassifier.pipeline.models[1].neuralNetworkClassifier.stringClassLabels.vector)
    assert set(outputs[spec.description.predictedProbabilitiesName]) == set(labels)


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_inspect_never_imports_torch():
    done = _run_python(
        "import sys\nfrom mlsurgery.cli import main\n"
        f"code = main(['inspect', {str(FIXTURES / 'mnist_mlp.mlmodel')!r}])\n"
        "assert 'torch' not in sys.modules, 'inspect imported torch'\nsys.exit(code)")
    assert done.returncode == 0, done.stderr


def test_without_torch_predict_exits_2_saying_what_to_install():
    done = _run_python(
        "import sys\nsys.modules['torch'] = None  # as if PyTorch were not installed\n"
        "from mlsurgery.cli import main\n"
        f"sys.exit(main(['predict', {str(FIXTURES / 'mnist_mlp.mlmodel')!r}, '--random-inputs']))")
    assert done.returncode == 2, done.stderr
    assert "pip install 'mlsurgery[train]'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
