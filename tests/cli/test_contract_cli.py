"""`mlsurgery contract`: table, documented JSON, Swift output, and one-line refusals."""

import json

from conftest import FIXTURES
from updatable_models import updatable_models  # noqa: F401 (a pytest fixture)

CONTRACT_KEYS = {"path", "model_type", "updatable_model", "training_inputs", "parameters", "optimizer", "losses",
                 "updatable_layers"}


def test_table_names_every_key_and_input(run_cli, updatable_models):
    result = run_cli("contract", updatable_models["squeezenet"])
    assert result.exit_code == 0, result.stderr
    for text in (".learningRate", ".miniBatchSize", "one of 1, 2, 8, 16", "CVPixelBuffer 227×227", "label"):
        assert text in result.stdout


def test_json_has_the_documented_shape(run_cli, updatable_models):
    result = run_cli("contract", updatable_models["knn_drawing"], "--format", "json")
    assert result.exit_code == 0, result.stderr
    contract = json.loads(result.stdout)
    assert set(contract) == CONTRACT_KEYS
    assert set(contract["updatable_model"]) == {"type", "where", "scope"}
    for feature in contract["training_inputs"]:
        assert set(feature) == {"name", "description", "role", "type", "swift"}
    for parameter in contract["parameters"].values():
        assert set(parameter) - {"allowed_values", "allowed_range"} == {"default", "swift_type"}


def test_swift_is_written_atomically_to_the_output(run_cli, updatable_models, tmp_path):
    output = tmp_path / "HandsTrainer.swift"
    result = run_cli("contract", updatable_models["squeezenet"], "--swift", "-o", output, "--name", "Hands")
    assert result.exit_code == 0, result.stderr
    source = output.read_text("utf-8")
    assert "final class HandsTrainer {" in source and "struct HandsTrainingParameters {" in source
    assert [p.name for p in tmp_path.iterdir()] == ["HandsTrainer.swift"]


def test_not_updatable_is_one_line_exit_1(run_cli):
    result = run_cli("contract", FIXTURES / "turi_squeezenet.mlmodel")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "turi_squeezenet.mlmodel: is not updatable" in result.stderr and "make-updatable" in result.stderr


def test_output_without_swift_is_a_usage_error(run_cli, updatable_models, tmp_path):
    result = run_cli("contract", updatable_models["regressor"], "-o", tmp_path / "x.swift")
    assert result.exit_code == 2 and "go with --swift" in result.stderr


def test_swift_never_overwrites_the_model(run_cli, updatable_models):
    model = updatable_models["regressor"]
    before = model.read_bytes()
    result = run_cli("contract", model, "--swift", "-o", model)
    assert result.exit_code == 2 and "output is the input model" in result.stderr
    assert model.read_bytes() == before


def test_missing_file_is_exit_2(run_cli, tmp_path):
    result = run_cli("contract", tmp_path / "missing.mlmodel")
    assert result.exit_code == 2 and "no such file" in result.stderr
