"""`mlsurgery validate` and `mlsurgery rules`: exit codes, output formats, and one-line errors."""

import json
import re

import pytest
import yaml
from conftest import FIXTURES, ROOT

from mlsurgery.io import load_spec, save_spec

VALID = FIXTURES / "mnist_mlp.mlmodel"


@pytest.fixture
def invalid_model(tmp_path):
    """mnist_mlp marked updatable at specification version 1 with nothing else: Core ML rejects it."""
    spec = load_spec(VALID)
    spec.isUpdatable = True
    return save_spec(spec, tmp_path / "invalid.mlmodel")


@pytest.fixture
def warned_model(tmp_path):
    """An updatable mnist_mlp that Core ML accepts, with its last dense layer stored as fp16 (a warning)."""
    spec = load_spec(VALID)
    spec.specificationVersion = 4
    spec.isUpdatable = True
    network = spec.neuralNetworkClassifier
    dense = next(layer for layer in network.layers if layer.name == "dense_3")
    dense.isUpdatable = True
    dense.innerProduct.weights.isUpdatable = dense.innerProduct.bias.isUpdatable = True
    loss = network.updateParams.lossLayers.add()
    loss.name = "loss"
    loss.categoricalCrossEntropyLossLayer.input = "labelProbabilities"
    loss.categoricalCrossEntropyLossLayer.target = "classLabel"
    sgd = network.updateParams.optimizer.sgdOptimizer
    sgd.learningRate.defaultValue = 0.01
    sgd.miniBatchSize.defaultValue = 8
    network.updateParams.epochs.defaultValue = 5
    spec.description.trainingInput.extend([spec.description.input[0]] + [
        output for output in spec.description.output if output.name == "classLabel"])
    first = network.layers[1]
    for weights in (first.innerProduct.weights, first.innerProduct.bias):
        count = len(weights.floatValue)
        weights.ClearField("floatValue")
        weights.float16Value = b"\x00\x3c" * count
    return save_spec(spec, tmp_path / "warned.mlmodel")


@pytest.fixture
def unloadable(tmp_path):
    path = tmp_path / "notes.mlmodel"
    path.write_text("just text")
    return path


def test_valid_model_exits_0(run_cli):
    result = run_cli("validate", VALID)
    assert result.exit_code == 0, result.stdout
    assert "valid" in result.stdout and "Core ML accepts" in result.stdout


def test_invalid_model_exits_1_and_marks_core_ml_s_message(run_cli, invalid_model):
    result = run_cli("validate", invalid_model)
    assert result.exit_code == 1
    first_line = next(line for line in result.stdout.splitlines() if "MLS050" in line)
    assert "← Core ML reports this" in first_line


def test_json_is_one_array_with_an_object_per_file(run_cli, invalid_model, unloadable):
    result = run_cli("validate", VALID, invalid_model, unloadable, "--format", "json")
    records = json.loads(result.stdout)
    assert [record["path"] for record in records] == [str(VALID), str(invalid_model), str(unloadable)]
    for record in records:
        assert set(record) == {"path", "valid", "findings", "coreml_first", "error"}
    valid, invalid, broken = records
    assert valid["valid"] is True and valid["coreml_first"] is None and valid["error"] is None
    assert invalid["valid"] is False and invalid["coreml_first"]["code"] == "MLS050"
    assert set(invalid["findings"][0]) == {"code", "severity", "message", "layer", "where"}
    assert broken["valid"] is False and "text file" in broken["error"] and broken["findings"] == []


def test_a_file_that_cannot_be_loaded_exits_2_but_the_others_are_still_checked(run_cli, invalid_model, unloadable):
    result = run_cli("validate", unloadable, invalid_model)
    assert result.exit_code == 2
    assert "cannot load" in result.stdout and "MLS050" in result.stdout


def test_warnings_pass_unless_strict(run_cli, warned_model):
    relaxed = run_cli("validate", warned_model, "--format", "json")
    assert relaxed.exit_code == 0
    record = json.loads(relaxed.stdout)[0]
    assert record["valid"] is True and [f["code"] for f in record["findings"]] == ["MLS900"]
    assert record["findings"][0]["severity"] == "warning"
    assert run_cli("validate", warned_model, "--strict").exit_code == 1


def test_sarif_is_a_valid_2_1_0_log(run_cli, invalid_model, warned_model):
    result = run_cli("validate", invalid_model, warned_model, "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert run["tool"]["driver"]["name"] == "mlsurgery" and len(set(rule_ids)) == len(rule_ids)
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["shortDescription"]["text"] and rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert run["results"]
    for entry in run["results"]:
        assert entry["ruleId"] == rule_ids[entry["ruleIndex"]]
        assert entry["level"] in ("error", "warning", "note", "none") and entry["message"]["text"]
        assert entry["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert {entry["level"] for entry in run["results"]} == {"error", "warning"}
    assert sum(entry["properties"]["coremlFirst"] for entry in run["results"]) == 1


def test_github_format_prints_workflow_annotations(run_cli, invalid_model, warned_model):
    result = run_cli("validate", invalid_model, warned_model, "--format", "github")
    lines = result.stdout.splitlines()
    assert lines and all(re.match(r"::(error|warning) file=[^,]+,title=MLS\d{3} [a-z0-9-]+::\S", line)
                         for line in lines)
    assert any(line.startswith("::warning") and "MLS900" in line for line in lines)


def test_missing_model_argument_is_a_usage_error(run_cli):
    assert run_cli("validate").exit_code == 2


def test_rules_table_lists_every_code(run_cli):
    from mlsurgery.rules import ALL_RULES

    result = run_cli("rules")
    assert result.exit_code == 0
    for checked in ALL_RULES:
        assert checked.code in result.stdout


def test_rules_json(run_cli):
    from mlsurgery.rules import ALL_RULES

    records = json.loads(run_cli("rules", "--format", "json").stdout)
    assert [record["code"] for record in records] == [checked.code for checked in ALL_RULES]
    assert set(records[0]) == {"code", "name", "severity", "summary", "explanation", "fix", "upstream"}


def test_rules_explain_prints_one_rule(run_cli):
    result = run_cli("rules", "explain", "mls218")
    assert result.exit_code == 0
    assert result.stdout.startswith("MLS218 gradient-blocked-before-updatable-layer (error)")
    for label in ("summary:", "explanation:", "fix:", "upstream:"):
        assert label in result.stdout


def test_rules_explain_unknown_code_is_one_line_with_close_matches(run_cli):
    result = run_cli("rules", "explain", "MLS2l8")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("mlsurgery: error: unknown rule code 'MLS2l8'; did you mean")
    assert "MLS218" in result.stderr


def test_pre_commit_hook_validates_mlmodel_files():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"].split()[:2] == ["mlsurgery", "validate"]
    assert re.search(hook["files"], "models/Classifier.mlmodel") and not re.search(hook["files"], "model.py")
    assert hook["language"] == "python" and hook["types"] == ["file"]


def test_a_folder_is_every_model_in_it(run_cli, invalid_model, tmp_path):
    import shutil

    shutil.copy(VALID, tmp_path / "valid.mlmodel")
    result = run_cli("validate", tmp_path, "--format", "json")
    assert result.exit_code == 1  # invalid.mlmodel (the fixture) is in the same folder
    assert sorted(entry["path"] for entry in json.loads(result.stdout)) == sorted(
        [str(invalid_model), str(tmp_path / "valid.mlmodel")])
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("validate", empty)
    assert result.exit_code == 2 and "no .mlmodel or .mlpackage in this folder" in " ".join(result.stdout.split())
