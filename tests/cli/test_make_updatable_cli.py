"""`mlsurgery make-updatable` end to end: the issue's acceptance cases, refusals, and file safety."""

import pytest

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.network import LayerGraph
from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec

SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"


def _updatable_layers(path):
    return [layer.name for layer in LayerGraph.trainable(load_spec(path)).layers if layer.is_updatable]


@pytest.mark.parametrize("model, layers", [
    (SQUEEZENET, "fullyconnected0"),
    (SQUEEZENET, "fullyconnected0,conv10"),
    (SHARED_MODELS / "quickdraw_classifier.mlmodel", "dense_3"),
    (SHARED_MODELS / "quickdraw_classifier.mlmodel", "dense_3,dense_2,dense_1"),
    (FIXTURES / "mnist_mlp.mlmodel", "dense_2,dense_3"),
    (FIXTURES / "regressor.mlmodel", "dense_1,dense_2"),
    (FIXTURES / "pipeline.mlmodel", "classifier"),
], ids=lambda value: getattr(value, "name", value))
def test_accepted_models_are_written_and_valid(run_cli, tmp_path, model, layers):
    out = tmp_path / "out.mlmodel"
    result = run_cli("make-updatable", model, "--layers", layers, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert validate_spec(load_spec(out)).valid
    assert sorted(_updatable_layers(out)) == sorted(layers.split(","))


def test_layer_behind_a_concat_is_refused_naming_the_concat(run_cli, tmp_path):
    out = tmp_path / "out.mlmodel"
    result = run_cli("make-updatable", SQUEEZENET, "--layers", "fire9/expand1x1", "-o", out)
    assert result.exit_code == 1
    assert "'fire9/concat' (concat)" in result.stderr
    assert "fullyconnected0, conv10" in result.stderr
    assert not out.exists()


def test_split_1d_mse_on_the_output_names_the_reshape_and_the_blob_to_use(run_cli, tmp_path):
    out = tmp_path / "out.mlmodel"
    refused = run_cli("make-updatable", FIXTURES / "split_1d.mlmodel", "--layers", "Conv_7", "--loss", "mse",
                      "--loss-input", "output", "-o", out)
    assert refused.exit_code == 1
    assert "'Reshape_9' (reshape)" in refused.stderr and "--loss-input Sigmoid_8" in refused.stderr
    accepted = run_cli("make-updatable", FIXTURES / "split_1d.mlmodel", "--layers", "Conv_7,Conv_5", "--loss",
                       "mse", "--loss-input", "Sigmoid_8", "--optimizer", "adam", "-o", out)
    assert accepted.exit_code == 0, accepted.stderr
    assert validate_spec(load_spec(out)).valid


def test_split_1d_default_mse_reads_the_blob_before_the_trailing_reshape(run_cli, tmp_path):
    out = tmp_path / "out.mlmodel"
    result = run_cli("make-updatable", FIXTURES / "split_1d.mlmodel", "--layers", "auto", "-o", out)
    assert result.exit_code == 0, result.stderr
    spec = load_spec(out)
    (loss,) = spec.neuralNetwork.updateParams.lossLayers
    assert loss.meanSquaredErrorLossLayer.input == "Sigmoid_8"
    target = next(f for f in spec.description.trainingInput if f.name == loss.meanSquaredErrorLossLayer.target)
    # Sigmoid_8 is [1, 1, C=1, H=1, W=100] in this rank-5 network, declared as [C, H, W] like the output.
    assert list(target.type.multiArrayType.shape) == [1, 1, 100]


def test_auto_picks_the_nearest_trainable_layers(run_cli, tmp_path):
    out = tmp_path / "out.mlmodel"
    result = run_cli("make-updatable", SQUEEZENET, "--layers", "auto", "--depth", "5", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert _updatable_layers(out) == ["conv10", "fullyconnected0"]


def test_same_command_on_its_own_output_gives_identical_bytes(run_cli, tmp_path):
    args = ["--layers", "fullyconnected0,conv10", "--batch", "8", "--batch-values", "1,2,8,16", "--epochs", "10",
            "--epochs-values", "1,10,50", "--seed", "42"]
    first, second = tmp_path / "first.mlmodel", tmp_path / "second.mlmodel"
    assert run_cli("make-updatable", SQUEEZENET, *args, "-o", first).exit_code == 0
    assert run_cli("make-updatable", first, *args, "-o", second).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_output_equal_to_input_is_refused_unless_in_place(run_cli, fixture_copy):
    model = fixture_copy("regressor.mlmodel")
    before = model.read_bytes()
    refused = run_cli("make-updatable", model, "--layers", "dense_2", "-o", model)
    assert refused.exit_code == 2 and "--in-place" in refused.stderr
    assert model.read_bytes() == before
    assert run_cli("make-updatable", model, "--layers", "dense_2", "-o", model, "--in-place").exit_code == 0
    assert load_spec(model).isUpdatable


def test_default_output_sits_beside_the_input(run_cli, fixture_copy):
    model = fixture_copy("regressor.mlmodel")
    assert run_cli("make-updatable", model, "--layers", "dense_2").exit_code == 0
    assert (model.parent / "regressor_updatable.mlmodel").exists()


def test_dry_run_writes_nothing_but_shows_the_changes(run_cli, tmp_path):
    out = tmp_path / "out.mlmodel"
    result = run_cli("make-updatable", SQUEEZENET, "--layers", "fullyconnected0", "-o", out, "--dry-run")
    assert result.exit_code == 0
    assert "marked updatable" in result.stdout and "dry run" in result.stdout
    assert not out.exists()


def test_fp16_network_needs_to_fp32(run_cli, tmp_path):
    model = SHARED_MODELS / "fp16_lstm_decoder.mlmodel"
    out = tmp_path / "out.mlmodel"
    refused = run_cli("make-updatable", model, "--layers", "dense_2", "--loss-input", "nextCharProbs", "-o", out)
    assert refused.exit_code == 2 and "--to-fp32" in refused.stderr and "#604" in refused.stderr
    accepted = run_cli("make-updatable", model, "--layers", "dense_2", "--loss-input", "nextCharProbs",
                       "--to-fp32", "-o", out)
    assert accepted.exit_code == 0, accepted.stderr
    assert all(layer.storage in ("fp32", "none") for layer in LayerGraph.trainable(load_spec(out)).layers)


@pytest.mark.parametrize("args, message", [
    (["--layers", "fullyconected0"], "did you mean 'fullyconnected0'"),
    (["--layers", "fullyconnected0", "--batch-values", "1,x"], "comma-separated list of integers"),
    (["--layers", "fullyconnected0", "--batch", "4", "--batch-values", "1,2"], "not among the allowed sizes"),
    (["--layers", "fullyconnected0", "--lr", "3"], "outside its allowed range"),
    (["--layers", "softmax"], "can only train convolution, innerProduct"),
    (["--layers", "fullyconnected0", "--loss-input", "nowhere"], "'nowhere' is not produced by any layer"),
])
def test_bad_requests_are_one_line_exit_2(run_cli, tmp_path, args, message):
    out = tmp_path / "out.mlmodel"
    result = run_cli("make-updatable", SQUEEZENET, *args, "-o", out)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert not out.exists()


def test_force_writes_a_rejected_model_and_inspect_explains_the_block(run_cli, tmp_path):
    import json

    out = tmp_path / "out.mlmodel"
    result = run_cli("make-updatable", SQUEEZENET, "--layers", "fire9/expand1x1,fullyconnected0", "--force",
                     "-o", out)
    assert result.exit_code == 0 and out.exists()
    assert not validate_spec(load_spec(out)).valid
    summary = json.loads(run_cli("inspect", out, "--format", "json").stdout)
    traces = {t["name"]: t for t in summary["networks"][0]["training"]["layer_gradients"]}
    assert traces["fire9/expand1x1"]["coreml_accepts"] is False
    assert traces["fire9/expand1x1"]["blocked_by"] == "fire9/concat"
    assert traces["fire9/expand1x1"]["path"][:4] == ["softmax", "fullyconnected0", "flatten", "pool10"]
    assert traces["fullyconnected0"] == {"name": "fullyconnected0", "coreml_accepts": True, "gradients_reach": True,
                                         "blocked_by": None, "path": ["softmax", "fullyconnected0"],
                                         "coreml_differs_from_paths": False}


def test_a_model_that_is_not_a_neural_network_is_named(run_cli, tmp_path):
    from mlsurgery._proto import model_pb2
    from mlsurgery.io import save_spec

    spec = model_pb2().Model()
    spec.specificationVersion = 1
    spec.glmRegressor.weights.add().value.extend([1.0, 2.0])
    path = tmp_path / "linear.mlmodel"
    save_spec(spec, path)
    result = run_cli("make-updatable", path, "--layers", "x", "-o", tmp_path / "out.mlmodel")
    assert result.exit_code == 2
    assert result.stderr == (f"mlsurgery: error: {path}: model type 'glmRegressor' is not a neural network; only "
                             "neuralNetwork, neuralNetworkClassifier and neuralNetworkRegressor models (or a pipeline "
                             "ending in one) can be trained on device\n")


def test_an_mlpackage_is_refused_with_the_conversion_hint(run_cli, tmp_path):
    package = tmp_path / "Model.mlpackage"
    package.mkdir()
    result = run_cli("make-updatable", package, "--layers", "x")
    assert result.exit_code == 2
    assert 'convert_to="neuralnetwork"' in result.stderr and result.stderr.count("\n") == 1


def test_auto_prefers_layers_whose_gradients_cross_no_batchnorm(run_cli, tmp_path):
    # simple_mnist_batchnorm: dense_4 → batchnorm → dense_5 → batchnorm → dense_6 → softmax. Core ML accepts
    # all three, but a batchnorm on the gradient path fails on device (MLS903), so auto takes dense_6 only.
    out = tmp_path / "out.mlmodel"
    result = run_cli("make-updatable", SHARED_MODELS / "simple_mnist_batchnorm.mlmodel", "--layers", "auto",
                     "--depth", "3", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert _updatable_layers(out) == ["dense_6"]
    assert validate_spec(load_spec(out)).warnings == []


def test_auto_depth_must_be_positive(run_cli, tmp_path):
    result = run_cli("make-updatable", SQUEEZENET, "--layers", "auto", "--depth", "0", "-o", tmp_path / "o.mlmodel")
    assert result.exit_code == 2 and "--depth must be at least 1, not 0" in result.stderr


def test_createml_classifier_needs_no_layers_option(run_cli, tmp_path):
    out = tmp_path / "Personal.mlmodel"
    result = run_cli("make-updatable", SHARED_MODELS / "createml_flower_classifier.mlmodel", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "preserves the GLM's probabilities" in result.stdout
    assert validate_spec(load_spec(out)).valid
    assert _updatable_layers(out) == ["glm_innerProduct"]
