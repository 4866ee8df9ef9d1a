"""mlsurgery fix, make-updatable --fix/--layers marked, and --layers auto --fix over the real third-party models."""

import json

import pytest

from conftest import FIXTURES, ROOT, shared_models
from mlsurgery.network import trainable_network
from mlsurgery.errors import ModelLoadError
from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec
from pytorch_models import converted


def _converted_file(name, tmp_path):
    _, _, spec = converted(name)
    path = tmp_path / f"{name}.mlmodel"
    path.write_bytes(spec.SerializeToString())
    return path


def test_fix_lists_the_rewrites_and_writes_a_valid_model(run_cli, tmp_path):
    source, out = _converted_file("cnn", tmp_path), tmp_path / "fixed.mlmodel"
    result = run_cli("fix", source, "-o", out, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [applied["code"] for applied in report["applied"]] == ["MLS500"] and report["refused"] == []
    assert report["written"] == str(out) and report["valid"]
    kinds = [layer.WhichOneof("layer") for layer in load_spec(out).neuralNetwork.layers]
    assert "flatten" in kinds and "softmax" in kinds and "softmaxND" not in kinds


def test_fix_dry_run_writes_nothing_and_unknown_codes_exit_2(run_cli, tmp_path):
    source, out = _converted_file("mlp", tmp_path), tmp_path / "fixed.mlmodel"
    assert run_cli("fix", source, "-o", out, "--dry-run").exit_code == 0 and not out.exists()
    refused = run_cli("fix", source, "--only", "MLS218", "-o", out)
    assert refused.exit_code == 2 and "MLS218" in refused.stderr and len(refused.stderr.splitlines()) == 1


def test_validate_reports_fixable_layers_without_changing_the_verdict(run_cli, tmp_path):
    result = run_cli("validate", _converted_file("mlp", tmp_path), "--format", "json")
    (report,) = json.loads(result.stdout)
    assert result.exit_code == 0 and report["valid"]
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [("MLS500", "info")]


def test_auto_without_fix_suggests_it(run_cli, tmp_path):
    result = run_cli("make-updatable", _converted_file("cnn", tmp_path), "--layers", "auto", "-o",
                     tmp_path / "out.mlmodel")
    assert result.exit_code == 1 and "--fix would rewrite" in result.stderr


def test_layers_marked_completes_a_half_done_updatable_model(run_cli, tmp_path):
    # What the old Keras converter's respect_trainable produced: layers flagged, no loss, optimizer or inputs.
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    network = spec.neuralNetworkClassifier
    marked = [layer.name for layer in network.layers if layer.WhichOneof("layer") == "innerProduct"][-1:]
    for layer in network.layers:
        if layer.name in marked:
            layer.isUpdatable = True
    half_done, out = tmp_path / "half.mlmodel", tmp_path / "done.mlmodel"
    half_done.write_bytes(spec.SerializeToString())
    assert not validate_spec(spec).valid or not spec.isUpdatable
    result = run_cli("make-updatable", half_done, "--layers", "marked", "-o", out)
    assert result.exit_code == 0, result.stderr
    done = load_spec(out)
    assert validate_spec(done).valid and done.isUpdatable
    assert [layer.name for layer in done.neuralNetworkClassifier.layers if layer.isUpdatable] == marked
    none_marked = run_cli("make-updatable", FIXTURES / "mnist_mlp.mlmodel", "--layers", "marked", "-o", out)
    assert none_marked.exit_code == 2 and "no layer of the network is marked updatable" in none_marked.stderr


def _network_models():
    for path in shared_models():
        try:
            trainable_network(load_spec(path))
        except ModelLoadError:
            continue
        yield path


def test_auto_fix_over_third_party_models_accepts_most_and_refuses_the_rest_in_one_line(run_cli, tmp_path):
    accepted, refused = [], []
    for path in _network_models():
        out = tmp_path / path.name
        result = run_cli("make-updatable", path, "--layers", "auto", "--fix", "-o", out)
        if result.exit_code == 0:
            assert validate_spec(load_spec(out)).valid, path.name
            accepted.append(path.name)
        else:
            assert result.exit_code in (1, 2) and "Traceback" not in result.stderr, path.name
            error = [line for line in result.stderr.splitlines() if line.startswith("mlsurgery: error:")]
            assert len(error) == 1, (path.name, result.stderr)
            # The refusal names the blocking layer ('name' (kind)) or the option the user must choose.
            assert "' (" in error[0] or "--" in error[0], error[0]
            refused.append(path.name)
    share = len(accepted) / (len(accepted) + len(refused))
    assert share >= 0.5, (accepted, refused)
    assert "keras_batchedmatmul_mlp.mlmodel" in accepted and "tiny_softmax_regression.mlmodel" in accepted


@pytest.mark.parametrize("command", [["fix"], ["make-updatable", "--layers", "dense_3", "--fix"]])
def test_nothing_to_rewrite_loads_no_pytorch_and_needs_none(command, tmp_path):
    """The engine proves rewrites and measures blobs; with none to prove or measure, PyTorch (a second to import,
    an optional extra) is neither imported nor required."""
    import subprocess
    import sys

    model, output = FIXTURES / "mnist_mlp.mlmodel", tmp_path / "out.mlmodel"
    args = [command[0], str(model), *command[1:], "-o", str(output)]
    for setup, check in (("", "assert 'torch' not in sys.modules, 'imported torch'"),
                         ("sys.modules['torch'] = None  # as if PyTorch were not installed", "")):
        done = subprocess.run([sys.executable, "-c", f"import sys\n{setup}\nfrom mlsurgery.cli import main\n"
                               f"code = main({args!r})\n{check}\nsys.exit(code)"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert output.exists()
        output.unlink()
