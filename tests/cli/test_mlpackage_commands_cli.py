"""Every command that takes a model accepts an ML Program .mlpackage: it converts first (api.open_model), says so
in one line, and writes an .mlmodel; what cannot be converted is refused in one line with nothing written."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT
from mlsurgery.io import load_spec
from packages import ml_program_package, unshuffle_package

CONVERTED = "ML Program converted to a NeuralNetwork"


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("programs")
    subprocess.run([sys.executable, str(ROOT / "examples" / "pytorch_digits.py"), str(folder)], check=True,
                   capture_output=True)
    return {"classifier": folder / "Digits.mlpackage", "regressor": ml_program_package(folder),
            "unconvertible": unshuffle_package(folder)}


def _flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


@pytest.mark.parametrize("command, model, extra", [
    ("make-updatable", "classifier", ["--layers", "auto", "--fix"]),
    ("make-updatable", "regressor", ["--layers", "auto"]),
    ("fix", "classifier", []),
    ("make-knn", "classifier", []),
])
def test_writing_commands_convert_and_write_an_mlmodel(run_cli, programs, tmp_path, command, model, extra):
    output = tmp_path / "out.mlmodel"
    result = run_cli(command, programs[model], *extra, "-o", output)
    assert result.exit_code == 0, result.stderr
    assert CONVERTED in _flat(result.stdout)
    spec = load_spec(output)
    assert spec.WhichOneof("Type") != "mlProgram"


def test_split_converts_then_splits_after_a_blob_of_the_converted_network(run_cli, programs, tmp_path):
    from mlsurgery.jobs import open_model

    network = open_model(programs["classifier"]).spec.neuralNetworkClassifier
    after = network.layers[1].output[0]  # the hidden ReLU's output
    output = tmp_path / "split.mlmodel"
    result = run_cli("split", programs["classifier"], "--at", after, "-o", output)
    assert result.exit_code == 0, result.stderr
    assert CONVERTED in _flat(result.stdout) and load_spec(output).WhichOneof("Type") == "pipelineClassifier"


def test_the_default_output_of_a_package_is_an_mlmodel_beside_it(run_cli, programs, tmp_path):
    package = tmp_path / "Model.mlpackage"
    import shutil

    shutil.copytree(programs["regressor"], package)
    assert run_cli("make-updatable", package, "--layers", "auto").exit_code == 0
    assert load_spec(tmp_path / "Model_updatable.mlmodel").isUpdatable


def test_predict_says_it_converted_on_stderr_and_keeps_json_clean(run_cli, programs):
    import json

    result = run_cli("predict", programs["regressor"], "--random-inputs", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert CONVERTED in result.stderr
    assert list(json.loads(result.stdout)) == [o.name for o in load_spec(programs["regressor"]).description.output]


@pytest.mark.parametrize("command, code", [("contract", 1), ("train", 2)])  # as for a non-updatable .mlmodel
def test_commands_needing_an_updatable_model_convert_then_say_what_to_do(run_cli, programs, tmp_path, command,
                                                                         code):
    extra = [tmp_path / "data.npz", "-o", tmp_path / "out.mlmodel"] if command == "train" else []
    result = run_cli(command, programs["regressor"], *extra)
    assert result.exit_code == code
    lines = result.stderr.splitlines()
    assert CONVERTED in lines[0] and "make-updatable" in lines[-1] and "Traceback" not in result.stderr
    assert not (tmp_path / "out.mlmodel").exists()


def test_graph_converts_first(run_cli, programs, tmp_path):
    output = tmp_path / "graph.svg"
    result = run_cli("graph", programs["classifier"], "-o", output)
    assert CONVERTED in result.stderr.splitlines()[0]
    assert result.exit_code == 0 and "<svg" in output.read_text()


@pytest.mark.parametrize("command", ["make-updatable", "fix", "predict", "convert"])
def test_an_op_without_a_neural_network_layer_is_refused_in_one_line(run_cli, programs, tmp_path, command):
    output = tmp_path / "out.mlmodel"
    args = ["--random-inputs"] if command == "predict" else ["-o", output]
    result = run_cli(command, programs["unconvertible"], *args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "pixel_unshuffle" in result.stderr and "Traceback" not in result.stderr
    assert not output.exists()


def test_an_mlpackage_output_path_is_refused(run_cli, programs, tmp_path):
    result = run_cli("make-updatable", programs["regressor"], "-o", tmp_path / "Out.mlpackage")
    assert result.exit_code == 2 and "give an output path ending in .mlmodel" in result.stderr
    assert not (tmp_path / "Out.mlpackage").exists()
