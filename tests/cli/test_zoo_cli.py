"""Every command on the zoo fixtures (layer kinds the plain fixtures lack, custom layers included): a verdict or
a one-line refusal, never a traceback."""

import json

import pytest

from conftest import FIXTURES
from mlsurgery.network import find_networks
from mlsurgery.io import load_spec, save_spec

ZOO = sorted((FIXTURES / "zoo").glob("*.mlmodel"))


def _one_line_or_nothing(result):
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("mlsurgery: error:")]
    assert len(errors) <= 1 and (result.exit_code == 0 or len(errors) == 1 or result.stdout), result.stderr


@pytest.mark.parametrize("model", ZOO, ids=lambda p: p.name)
def test_inspect_validate_and_make_updatable_on_every_zoo_model(run_cli, tmp_path, model):
    inspected = run_cli("inspect", model, "--format", "json")
    assert inspected.exit_code == 0, inspected.stderr
    networks = json.loads(inspected.stdout)["networks"]
    assert [len(network["layers"]) for network in networks] == [
        len(location.network.layers) for location in find_networks(load_spec(model))]
    assert run_cli("inspect", model).exit_code == 0

    validated = run_cli("validate", model)
    assert validated.exit_code == 0, validated.stdout  # build_fixtures.py builds every zoo model valid
    _one_line_or_nothing(validated)

    out = tmp_path / "out.mlmodel"
    updated = run_cli("make-updatable", model, "--layers", "auto", "-o", out)
    assert updated.exit_code in (0, 1, 2)
    _one_line_or_nothing(updated)
    if updated.exit_code == 0:
        assert run_cli("validate", out).exit_code == 0


@pytest.mark.parametrize("name", ["custom_layer.mlmodel", "custom_layer_updatable.mlmodel"])
def test_custom_layer_models_are_valid_and_train_only_behind_the_custom_layer(run_cli, tmp_path, name):
    model = FIXTURES / "zoo" / name
    assert run_cli("validate", model).exit_code == 0
    summary = json.loads(run_cli("inspect", model, "--format", "json").stdout)
    layers = {layer["name"]: layer for layer in summary["networks"][0]["layers"]}
    assert (layers["scale_shift"]["type"], layers["scale_shift"]["parameters"]) == ("custom", 32)
    out = tmp_path / "out.mlmodel"
    assert run_cli("make-updatable", model, "--layers", "auto", "--depth", "2", "-o", out).exit_code == 0
    assert json.loads(run_cli("inspect", out, "--format", "json").stdout)["networks"][0]["training"][
        "updatable_layers"] == ["dense_2"]  # gradients stop at the custom layer, so dense_1 cannot train


def test_custom_layer_cannot_be_made_updatable(run_cli, tmp_path):
    out = tmp_path / "out.mlmodel"
    result = run_cli("make-updatable", FIXTURES / "zoo" / "custom_layer.mlmodel", "--layers", "scale_shift",
                     "-o", out)
    assert result.exit_code in (1, 2) and "scale_shift" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_custom_layer_marked_updatable_is_rejected_naming_it(run_cli, tmp_path):
    spec = load_spec(FIXTURES / "zoo" / "custom_layer_updatable.mlmodel")
    next(layer for layer in spec.neuralNetworkClassifier.layers if layer.name == "scale_shift").isUpdatable = True
    marked = save_spec(spec, tmp_path / "marked.mlmodel")
    result = run_cli("validate", marked)
    assert result.exit_code == 1
    assert "scale_shift" in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize("model", ZOO, ids=lambda p: p.name)
def test_predict_on_random_inputs_runs_or_is_refused_in_one_line(run_cli, model):
    result = run_cli("predict", model, "--random-inputs")
    assert "Traceback" not in result.stderr
    if result.exit_code != 0:
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("mlsurgery: error:")


def test_predict_names_the_custom_layer_it_cannot_run(run_cli):
    result = run_cli("predict", FIXTURES / "zoo" / "custom_layer.mlmodel", "--random-inputs")
    assert result.exit_code == 2
    assert "'scale_shift'" in result.stderr and "custom" in result.stderr
