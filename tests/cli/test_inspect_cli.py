"""`mlsurgery inspect` works on every real model, prints the documented JSON, and fails in one line."""

import json
import subprocess
import sys

import pytest

from conftest import FIXTURES, shared_models

ALL_MODELS = shared_models() + sorted(FIXTURES.glob("*.mlmodel"))

LAYER_KEYS = {"index", "name", "type", "inputs", "outputs", "parameters", "storage", "updatable",
              "can_be_updatable", "passes_gradients"}
TOP_KEYS = {"path", "type", "specification_version", "is_updatable", "description", "inputs", "outputs",
            "predicted_feature", "predicted_probabilities", "class_labels", "networks", "stages", "training_inputs", "knn", "glm",
            "ml_program"}


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda p: p.name)
def test_table_and_json_on_every_model(run_cli, model):
    table = run_cli("inspect", model)
    assert table.exit_code == 0, table.stderr
    assert model.name in table.stdout
    result = run_cli("inspect", model, "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == TOP_KEYS
    assert summary["ml_program"] is None  # what only an ML Program has (tests/test_program_summary.py)
    for network in summary["networks"]:
        assert set(network) == {"where", "type", "layers", "training"}
        for layer in network["layers"]:
            assert set(layer) == LAYER_KEYS


def test_json_facts_of_squeezenet(run_cli):
    summary = json.loads(run_cli("inspect", FIXTURES / "turi_squeezenet.mlmodel", "--format", "json").stdout)
    assert summary["type"] == "neuralNetworkClassifier"
    assert summary["class_labels"] == ["rock", "paper", "scissors"]
    assert summary["inputs"][0]["type"] == {"kind": "imageType", "width": 227, "height": 227,
                                            "color_space": "RGB", "optional": False}
    layers = {layer["name"]: layer for layer in summary["networks"][0]["layers"]}
    assert layers["fullyconnected0"]["parameters"] == 1000 * 3 + 3
    assert layers["fire9/concat"]["passes_gradients"] is False
    assert layers["softmax"]["outputs"] == ["labelProbability"]


def test_json_training_section_of_an_updatable_model(run_cli):
    summary = json.loads(run_cli("inspect", FIXTURES / "third_party" / "updatable_mse_regressor.mlmodel",
                                 "--format", "json").stdout)
    training = summary["networks"][0]["training"]
    assert training["losses"][0]["type"] == "mse"
    assert training["optimizer"]["type"] == "sgd"
    assert training["updatable_layers"]
    assert set(training["optimizer"]["learningRate"]) >= {"default"}


def test_bad_path_is_one_line_exit_2(run_cli, tmp_path):
    result = run_cli("inspect", tmp_path / "missing.mlmodel")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "missing.mlmodel: no such file" in result.stderr


def test_no_traceback_from_the_real_entry_point(tmp_path):
    bad = tmp_path / "bad.mlmodel"
    bad.write_text("not a model")
    process = subprocess.run([sys.executable, "-m", "mlsurgery", "inspect", str(bad)], capture_output=True, text=True)
    assert process.returncode == 2
    assert process.stderr == f"mlsurgery: error: {bad}: is a text file, not a Core ML model; an .mlmodel is a binary protobuf written by coremltools\n"


def test_unknown_option_is_one_line_exit_2(run_cli):
    result = run_cli("inspect", FIXTURES / "regressor.mlmodel", "--format", "xml")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "mlsurgery inspect --help" in result.stderr
