"""End to end: PyTorch models converted by coremltools 9 → ``make-updatable --layers auto --fix`` → a model Core
ML's validator (our port) accepts, that predicts what the PyTorch model predicts, before and after the fix."""

import numpy as np
import pytest

from mlsurgery.engine import build_model, compare_predictions
from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec
from pytorch_models import CLASSIFIERS, MODELS, converted, torch_output

# The loss input's shape as the PyTorch model computes it (the blob the MSE loss reads).
MSE_TARGET_SHAPES = {"splitter": [1, 1, 1, 20], "regressor": [1, 1]}


def _write(spec, path):
    path.write_bytes(spec.SerializeToString())
    return path


@pytest.fixture(scope="module")
def made_updatable(tmp_path_factory):
    """name → (PyTorch module, input shape, converted spec, CLI result, updatable spec or None)."""
    from mlsurgery.cli import main

    done = {}

    def run(name, capsys):
        if name not in done:
            module, shape, spec = converted(name)
            folder = tmp_path_factory.mktemp(name)
            source, out = _write(spec, folder / "converted.mlmodel"), folder / "updatable.mlmodel"
            code = main(["make-updatable", str(source), "--layers", "auto", "--fix", "-o", str(out)])
            captured = capsys.readouterr()
            done[name] = (module, shape, spec, code, captured.err, load_spec(out) if out.exists() else None)
        return done[name]

    return run


@pytest.mark.parametrize("name", MODELS)
def test_auto_fix_gives_a_model_core_ml_accepts(name, made_updatable, capsys):
    _, _, _, code, stderr, updatable = made_updatable(name, capsys)
    assert code == 0, stderr
    report = validate_spec(updatable)
    assert report.valid, [f"{f.code} {f.message}" for f in report.errors]
    network = updatable.neuralNetwork
    assert updatable.isUpdatable and any(layer.isUpdatable for layer in network.layers)


@pytest.mark.parametrize("name", MODELS)
def test_predictions_equal_pytorch_and_the_converted_model(name, made_updatable, capsys):
    module, shape, spec, code, stderr, updatable = made_updatable(name, capsys)
    assert code == 0, stderr
    output = spec.description.output[0].name
    engine = build_model(updatable)
    rng = np.random.default_rng(11)
    for _ in range(4):
        x = rng.standard_normal(shape).astype(np.float32)
        expected = torch_output(module, x)
        got = np.asarray(engine.predict({"x": x})[output])
        np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-4, atol=1e-5)
    assert compare_predictions(spec, updatable, seed=3).agree


@pytest.mark.parametrize("name", MODELS)
def test_classifiers_get_cross_entropy_and_the_rest_mse_shaped_like_the_loss_input(name, made_updatable, capsys):
    _, _, _, code, stderr, updatable = made_updatable(name, capsys)
    assert code == 0, stderr
    (loss,) = updatable.neuralNetwork.updateParams.lossLayers
    kind = loss.WhichOneof("LossLayerType")
    target_name = getattr(loss, kind).target
    target = next(f for f in updatable.description.trainingInput if f.name == target_name)
    if name in CLASSIFIERS:
        assert kind == "categoricalCrossEntropyLossLayer"
        # Core ML's target for a network that is not a classifier: a one-element class index.
        assert list(target.type.multiArrayType.shape) == [1]
        assert target.type.multiArrayType.dataType == 131104  # INT32
    else:
        assert kind == "meanSquaredErrorLossLayer"
        assert list(target.type.multiArrayType.shape) == MSE_TARGET_SHAPES[name]


def _training_data(name, module, shape, updatable, path, count=32):
    """Targets the trainable layer can learn: a classifier's own class shifted by one, a regressor's own output
    mapped linearly (the splitter's sigmoid output flipped, 1 - y, which its last convolution can learn)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    xs = rng.standard_normal((count, *shape)).astype(np.float32)
    outputs = np.stack([torch_output(module, x) for x in xs])
    (loss,) = updatable.neuralNetwork.updateParams.lossLayers
    kind = loss.WhichOneof("LossLayerType")
    target = next(f for f in updatable.description.trainingInput if f.name == getattr(loss, kind).target)
    target_shape = list(target.type.multiArrayType.shape)
    if name in CLASSIFIERS:
        classes = outputs.reshape(count, -1).shape[1]
        labels = (outputs.reshape(count, -1).argmax(axis=1) + 1) % classes
        targets = labels.reshape(count, *target_shape).astype(np.int32)
    elif name == "splitter":
        targets = (1.0 - outputs).reshape(count, *target_shape)
    else:
        targets = (2.0 * outputs + 1.0).reshape(count, *target_shape)
    np.savez(path, x=xs, **{target.name: targets})
    return path


@pytest.mark.parametrize("name", MODELS)
def test_train_lowers_the_loss(name, made_updatable, capsys, tmp_path):
    from mlsurgery.cli import main

    module, shape, _, code, stderr, updatable = made_updatable(name, capsys)
    assert code == 0, stderr
    source = _write(updatable, tmp_path / "updatable.mlmodel")
    data = _training_data(name, module, shape, updatable, tmp_path / "data.npz")
    trained = tmp_path / "trained.mlmodel"
    assert main(["train", str(source), str(data), "-o", str(trained), "--set", "learningRate=0.05",
                 "--format", "json"]) == 0
    import json

    history = json.loads(capsys.readouterr().out)["history"]
    assert history[-1]["mean_loss"] < 0.95 * history[0]["mean_loss"], history
    assert validate_spec(load_spec(trained)).valid
