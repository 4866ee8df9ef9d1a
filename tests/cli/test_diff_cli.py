"""mlsurgery diff: a model against its `train` output lists exactly the updatable parameters; exit codes like
diff(1); --only-updatable-changed; JSON for scripts; no torch or coremltools imported."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import FIXTURES, ROOT
from mlsurgery.io import load_spec, save_spec


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The MNIST fixture made updatable at two of its dense layers, and what `mlsurgery train` made of it."""
    from mlsurgery.cli import main

    folder = tmp_path_factory.mktemp("diff")
    updatable, output = folder / "updatable.mlmodel", folder / "trained.mlmodel"
    assert main(["make-updatable", str(FIXTURES / "mnist_mlp.mlmodel"), "--layers", "dense_1,dense_3",
                 "--epochs", "2", "--lr", "0.05", "-o", str(updatable)]) == 0
    generator = np.random.default_rng(0)
    np.savez(folder / "data.npz", image=generator.random((48, 1, 28, 28), dtype=np.float32),
             classLabel=generator.integers(0, 10, 48))
    assert main(["train", str(updatable), str(folder / "data.npz"), "-o", str(output)]) == 0
    return updatable, output


def _updatable_arrays(path) -> set[tuple[str, str]]:
    """(layer, field) of every weight array Core ML trains, read straight off the protobuf's flags."""
    spec = load_spec(path)
    network = getattr(spec, spec.WhichOneof("Type"))
    found = set()
    for layer in network.layers:
        kind = layer.WhichOneof("layer")
        if not layer.isUpdatable:
            continue
        params = getattr(layer, kind)
        for name in ("weights", "bias"):
            if params.HasField(name) and getattr(params, name).isUpdatable:
                found.add((layer.name, f"{kind}.{name}"))
    return found


def test_a_trained_model_differs_in_exactly_its_updatable_parameters(run_cli, trained):
    updatable, output = trained
    result = run_cli("diff", updatable, output, "--format", "json")
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    expected = _updatable_arrays(updatable)
    assert expected == {("dense_1", "innerProduct.weights"), ("dense_1", "innerProduct.bias"),
                        ("dense_3", "innerProduct.weights"), ("dense_3", "innerProduct.bias")}
    listed = {(layer["name"], weights["field"]) for layer in report["layers_changed"] for weights in layer["weights"]}
    assert listed == expected
    assert all(weights["updatable"] and weights["changed"] > 0 and weights["max_abs_diff"] > 0
               for layer in report["layers_changed"] for weights in layer["weights"])
    assert all(layer["settings"] == [] for layer in report["layers_changed"])
    for key in ("model", "interface", "update_parameters", "layers_added", "layers_removed"):
        assert report[key] == [], key
    assert report["same"] is False and report["only_updatable_changed"] is True
    assert run_cli("diff", updatable, output, "--only-updatable-changed").exit_code == 0


def test_only_updatable_changed_fails_on_a_changed_learning_rate_or_frozen_weight(run_cli, trained, tmp_path):
    updatable, output = trained
    spec = load_spec(output)
    network = getattr(spec, spec.WhichOneof("Type"))
    network.updateParams.optimizer.sgdOptimizer.learningRate.defaultValue = 0.5
    save_spec(spec, tmp_path / "lr.mlmodel")
    result = run_cli("diff", updatable, tmp_path / "lr.mlmodel", "--only-updatable-changed")
    assert result.exit_code == 1 and "learningRate.defaultValue" in result.stdout
    spec = load_spec(output)
    frozen = next(layer for layer in getattr(spec, spec.WhichOneof("Type")).layers if layer.name == "dense_2")
    frozen.innerProduct.bias.floatValue[0] += 1.0
    save_spec(spec, tmp_path / "frozen.mlmodel")
    result = run_cli("diff", updatable, tmp_path / "frozen.mlmodel", "--only-updatable-changed", "--format", "json")
    assert result.exit_code == 1
    frozen_change = [weights for layer in json.loads(result.stdout)["layers_changed"] if layer["name"] == "dense_2"
                     for weights in layer["weights"]]
    assert [(weights["field"], weights["changed"], weights["updatable"]) for weights in frozen_change] == [
        ("innerProduct.bias", 1, False)]


def test_the_same_model_is_exit_0_and_a_table_says_so(run_cli):
    result = run_cli("diff", FIXTURES / "mnist_mlp.mlmodel", FIXTURES / "mnist_mlp.mlmodel")
    assert result.exit_code == 0 and "the same" in result.stdout


def test_the_table_names_what_differs(run_cli, trained):
    updatable, output = trained
    result = run_cli("diff", updatable, output)
    assert result.exit_code == 1
    assert "2 layers changed, 4 weight arrays changed (only the values of updatable parameters)" in result.stdout
    assert "dense_3" in result.stdout and "innerProduct.weights" in result.stdout


@pytest.mark.parametrize("content", [None, b"not a model"], ids=["missing", "corrupt"])
def test_a_file_that_cannot_be_read_is_one_line_and_exit_2(run_cli, tmp_path, content):
    bad = tmp_path / "bad.mlmodel"
    if content is not None:
        bad.write_bytes(content)
    result = run_cli("diff", FIXTURES / "mnist_mlp.mlmodel", bad)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(bad) in result.stderr and "Traceback" not in result.stderr


def test_diff_imports_neither_torch_nor_coremltools(trained):
    updatable, output = trained
    code = ("import sys\nfrom mlsurgery.cli import main\n"
            f"code = main(['diff', {str(updatable)!r}, {str(output)!r}, '--format', 'json'])\n"
            "assert 'torch' not in sys.modules and 'coremltools' not in sys.modules, 'heavy import'\nsys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
