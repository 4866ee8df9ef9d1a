"""inspect on ML Programs: functions, op counts, weight storage, deployment target and the verdict, read off the
MIL protobuf without importing coremltools. Expected figures come from the PyTorch models the packages were
converted from (layer sizes) and from the options given to coremltools (target, precision, compression)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT
from packages import compressed_package, ml_program_package, unshuffle_package

VERDICT = "an ML Program: Core ML trains only NeuralNetwork models; `mlsurgery convert` makes one"
# The MLPs' sizes: 8 → 16 → 3 (weights 8·16 + 16·3, biases 16 + 3) and 8 → 64 → 3.
SMALL_WEIGHTS, SMALL_BIASES = 8 * 16 + 16 * 3, 16 + 3
WIDE_WEIGHTS, WIDE_BIASES = 8 * 64 + 64 * 3, 64 + 3


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("programs")


def _inspect(run_cli, package) -> dict:
    result = run_cli("inspect", package, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_an_fp16_regressor_for_ios15(run_cli, folder):
    summary = _inspect(run_cli, ml_program_package(folder))
    program = summary["ml_program"]
    assert summary["type"] == "mlProgram" and summary["inputs"][0]["name"] == "x"
    assert program["deployment_target"] == "iOS 15 / macOS 12"
    assert [(f["name"], f["inputs"]) for f in program["functions"]] == [("main", [{"name": "x", "type": "fp32[1, 8]"}])]
    assert program["operations"]["linear"] == 2 and program["operations"]["relu"] == 1
    assert program["weights"] == [{"storage": "fp16", "tensors": 4, "values": SMALL_WEIGHTS + SMALL_BIASES}]
    assert program["verdict"] == VERDICT and program["unconvertible"] == []


def test_an_fp32_classifier_for_ios17_shows_its_labels(run_cli, folder):
    summary = _inspect(run_cli, ml_program_package(folder, name="Classifier.mlpackage", classifier=True))
    program = summary["ml_program"]
    assert program["deployment_target"] == "iOS 17 / macOS 14"
    assert summary["class_labels"] == ["ant", "bee", "cat"] == program["class_labels"]
    assert program["operations"]["classify"] == 1
    assert program["weights"] == [{"storage": "fp32", "tensors": 4, "values": SMALL_WEIGHTS + SMALL_BIASES}]


@pytest.mark.parametrize("compression", ["palettized", "linearly quantized", "sparse"])
def test_compressed_weights_are_named_by_their_storage(run_cli, folder, compression):
    program = _inspect(run_cli, compressed_package(folder, compression))["ml_program"]
    assert program["deployment_target"] == "iOS 16 / macOS 13"
    assert {entry["storage"]: (entry["tensors"], entry["values"]) for entry in program["weights"]} == {
        compression: (2, WIDE_WEIGHTS), "fp16": (2, WIDE_BIASES)}
    assert program["verdict"] == VERDICT


def test_an_op_without_a_neural_network_layer_is_named_in_the_verdict(run_cli, folder):
    package = unshuffle_package(folder)
    program = _inspect(run_cli, package)["ml_program"]
    assert program["deployment_target"] == "iOS 16 / macOS 13"
    assert [item["op"] for item in program["unconvertible"]] == ["pixel_unshuffle"]
    output = program["unconvertible"][0]["output"]
    assert program["verdict"].endswith(f"no NeuralNetwork layer computes pixel_unshuffle (output {output!r})")
    table = run_cli("inspect", package)
    assert table.exit_code == 0 and "pixel_unshuffle" in table.stdout


def test_the_table_shows_the_verdict_and_weight_storage(run_cli, folder):
    result = run_cli("inspect", compressed_package(folder, "palettized"))
    assert result.exit_code == 0
    assert "palettized" in result.stdout and "deployment target: iOS 16 / macOS 13" in result.stdout
    assert VERDICT in result.stdout.replace("\n", " ")


def test_inspect_of_an_ml_program_does_not_import_coremltools(folder):
    package = ml_program_package(folder, name="Cold.mlpackage")
    probe = ("import sys; from mlsurgery.cli import main; code = main(['inspect', sys.argv[1], '--format', 'json']); "
             "print('coremltools' in sys.modules, 'torch' in sys.modules, code, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe, str(package)], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    assert done.stderr.strip().splitlines()[-1] == "False False 0"


def test_validate_says_an_ml_program_is_valid_but_its_ops_were_not_checked(run_cli, folder):
    result = run_cli("validate", ml_program_package(folder, name="Valid.mlpackage"), "--format", "json")
    assert result.exit_code == 0
    [report] = json.loads(result.stdout)
    assert report["valid"] and [f["code"] for f in report["findings"]] == ["MLS510"]
    assert "not its operations" in report["findings"][0]["message"]
