"""`mlsurgery make-knn` end to end: the issue's command, and bad input as one line, exit 2, nothing written."""

import pytest

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec

SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"


def test_issue_command_writes_a_valid_pipeline(run_cli, tmp_path):
    out = tmp_path / "HandsKNN.mlmodel"
    result = run_cli("make-knn", SQUEEZENET, "--features", "flatten", "-k", "3", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert validate_spec(load_spec(out)).valid
    assert "1000 dimensions" in result.stdout


def test_dry_run_writes_nothing(run_cli, tmp_path):
    out = tmp_path / "out.mlmodel"
    assert run_cli("make-knn", SQUEEZENET, "-o", out, "--dry-run").exit_code == 0
    assert not out.exists()


@pytest.mark.parametrize("model, args, message", [
    (SQUEEZENET, ["--features", "nope"], "no blob named 'nope'"),
    (SQUEEZENET, ["--features", "fire9/concat"], "not a feature vector"),
    (SQUEEZENET, ["-k", "0"], "outside its allowed range"),
    (SQUEEZENET, ["-k", "20", "--k-range", "1,10"], "outside its allowed range"),
    (SQUEEZENET, ["--k-range", "1"], "give MIN,MAX"),
    (SHARED_MODELS / "missing.mlmodel", [], "no such file"),
], ids=["missing-blob", "not-a-vector", "k-zero", "k-above-range", "bad-range", "missing-file"])
def test_bad_input_is_one_line_exit_2_nothing_written(run_cli, tmp_path, model, args, message):
    out = tmp_path / "out.mlmodel"
    result = run_cli("make-knn", model, *args, "-o", out)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_model_without_network_is_refused(run_cli, tmp_path):
    from mlsurgery.network import pipeline_stages
    from mlsurgery.io import save_spec

    glm = tmp_path / "glm.mlmodel"
    save_spec(pipeline_stages(load_spec(SHARED_MODELS / "createml_flower_classifier.mlmodel"))[1], glm)
    out = tmp_path / "out.mlmodel"
    result = run_cli("make-knn", glm, "-o", out)
    assert result.exit_code == 2
    assert "has no neural network" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
