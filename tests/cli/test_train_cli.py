"""mlsurgery train: learning on real data (scikit-learn's digits), the article's HandsEmpty on a drawn image
folder, CSV data, overrides refused with exit 2, unreadable data, byte-identical results."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import FIXTURES, ROOT, SHARED_MODELS

from mlsurgery.engine import build_model
from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec


# --- digits: 1,797 8 × 8 images shipped with scikit-learn ----------------------------------------------------

def _digits_as_mnist():
    """The digits scaled 3× to 24 × 24 and centred in 28 × 28, values 0–1, like the MNIST fixture's input."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.kron(digits.images / 16.0, np.ones((3, 3)))
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))[:, None].astype(np.float32)
    order = np.random.default_rng(0).permutation(len(images))
    return images[order], digits.target[order]


@pytest.fixture(scope="module")
def digits_setup(tmp_path_factory):
    from mlsurgery.cli import main

    folder = tmp_path_factory.mktemp("digits")
    updatable = folder / "digits_updatable.mlmodel"
    code = main(["make-updatable", str(FIXTURES / "mnist_mlp.mlmodel"), "--layers", "dense_1,dense_2,dense_3",
                 "--optimizer", "adam", "--lr", "0.001", "--batch", "32", "--epochs", "8", "--seed", "3",
                 "-o", str(updatable)])
    assert code == 0
    images, labels = _digits_as_mnist()
    np.savez(folder / "train.npz", image=images[:1500], classLabel=labels[:1500])
    np.savez(folder / "test.npz", image=images[1500:], classLabel=labels[1500:])
    return folder, updatable, images[1500:], labels[1500:]


def test_digits_reach_85_percent_validation_accuracy_from_chance(run_cli, digits_setup):
    folder, updatable, test_images, test_labels = digits_setup
    untrained = build_model(load_spec(updatable)).predict_batch({"image": test_images})
    assert np.mean(untrained["classLabel"] == test_labels) < 0.3, "the untrained network must be near chance"

    result = run_cli("train", updatable, folder / "train.npz", "--validation", folder / "test.npz",
                     "-o", folder / "digits_trained.mlmodel", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["history"]) == 8 and report["batches_per_epoch"] == 47  # ceil(1500 / 32)
    assert report["history"][-1]["validation_accuracy"] >= 0.85
    trained = build_model(load_spec(folder / "digits_trained.mlmodel")).predict_batch({"image": test_images})
    assert np.mean(trained["classLabel"] == test_labels) >= 0.85  # the saved file predicts what training measured
    assert validate_spec(load_spec(folder / "digits_trained.mlmodel")).valid


def test_an_override_outside_the_allowed_values_exits_2_and_writes_nothing(run_cli, digits_setup):
    folder, updatable, _, _ = digits_setup
    output = folder / "refused.mlmodel"
    result = run_cli("train", updatable, folder / "train.npz", "-o", output, "--set", "miniBatchSize=16")
    assert result.exit_code == 2
    assert "miniBatchSize=16: the model allows only 32" in result.stderr
    assert not output.exists()


def test_unreadable_data_is_named_in_one_line_and_nothing_is_written(run_cli, digits_setup, tmp_path):
    folder, updatable, _, _ = digits_setup
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip archive")
    result = run_cli("train", updatable, broken, "-o", tmp_path / "out.mlmodel")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and str(broken) in result.stderr
    assert not (tmp_path / "out.mlmodel").exists()


# --- HandsEmpty: recipes/hands-turi.yaml on a folder of drawn images ------------------------------------------

def _draw_hands(folder, per_class: int, seed: int):
    """Three classes of 64 × 64 pictures: a red disc, a green square, a blue triangle on random backgrounds."""
    rng = np.random.default_rng(seed)
    for label in ("rock", "paper", "user0"):
        (folder / label).mkdir(parents=True)
        for index in range(per_class):
            image = Image.new("RGB", (64, 64), tuple(int(v) for v in rng.integers(0, 256, 3)))
            draw = ImageDraw.Draw(image)
            x, y = (int(v) for v in rng.integers(4, 30, 2))
            if label == "rock":
                draw.ellipse([x, y, x + 30, y + 30], fill=(200, 30, 30))
            elif label == "paper":
                draw.rectangle([x, y, x + 30, y + 30], fill=(30, 200, 30))
            else:
                draw.polygon([(x, y + 30), (x + 15, y), (x + 30, y + 30)], fill=(30, 30, 200))
            image.save(folder / label / f"{index}.png")


@pytest.fixture(scope="module")
def hands_empty(tmp_path_factory):
    from mlsurgery.recipe import apply_recipe, load_recipe

    out = tmp_path_factory.mktemp("hands")
    apply_recipe(load_recipe(ROOT / "recipes" / "hands-turi.yaml"), output_dir=out)
    photos = out / "photos"
    _draw_hands(photos, 2, seed=1)
    return out / "HandsEmpty.mlmodel", photos


def test_hands_empty_learns_and_changes_only_fullyconnected0(run_cli, hands_empty, tmp_path):
    model, photos = hands_empty
    # SqueezeNet's fixture has random weights: its features are large, so the step must be small.
    arguments = ["train", model, photos, "--set", "learningRate=0.0000001", "--set", "miniBatchSize=2",
                 "--format", "json"]
    result = run_cli(*arguments, "-o", tmp_path / "first.mlmodel")
    assert result.exit_code == 0, result.stderr
    history = json.loads(result.stdout)["history"]
    assert len(history) == 10 and history[-1]["mean_loss"] < history[0]["mean_loss"]

    trained, original = load_spec(tmp_path / "first.mlmodel"), load_spec(model)
    assert validate_spec(trained).valid
    layers = {layer.name: layer for layer in original.neuralNetworkClassifier.layers}
    changed = [layer.name for layer in trained.neuralNetworkClassifier.layers if layer != layers[layer.name]]
    assert changed == ["fullyconnected0"]
    restored = type(trained)()
    restored.CopyFrom(trained)
    fc = next(layer for layer in restored.neuralNetworkClassifier.layers if layer.name == "fullyconnected0")
    fc.CopyFrom(layers["fullyconnected0"])
    assert restored == original, "nothing but fullyconnected0 may differ"

    again = run_cli(*arguments, "-o", tmp_path / "second.mlmodel")
    assert again.exit_code == 0
    assert (tmp_path / "first.mlmodel").read_bytes() == (tmp_path / "second.mlmodel").read_bytes()


def test_table_output_shows_the_epochs_and_what_was_written(run_cli, hands_empty, tmp_path):
    model, photos = hands_empty
    result = run_cli("train", model, photos, "--validation", photos, "--set", "learningRate=0.0000001",
                     "--set", "epochs=1", "-o", tmp_path / "table.mlmodel")
    assert result.exit_code == 0, result.stderr
    assert "validation accuracy" in result.stdout
    assert "trained fullyconnected0.weights, fullyconnected0.bias on 6 examples" in result.stdout


# --- CSV -----------------------------------------------------------------------------------------------------

def test_csv_columns_feed_an_array_input_and_the_mse_loss_goes_down(run_cli, tmp_path):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 13))
    y = x @ rng.standard_normal(13) * 0.1
    header = ",".join([f"input[{i}]" for i in range(13)] + ["output_true"])
    rows = [",".join(f"{v:.6f}" for v in list(features) + [target]) for features, target in zip(x, y)]
    (tmp_path / "data.csv").write_text("\n".join([header] + rows) + "\n")
    result = run_cli("train", SHARED_MODELS / "updatable_mse_regressor.mlmodel", tmp_path / "data.csv",
                     "--set", "epochs=500", "-o", tmp_path / "regressor.mlmodel", "--format", "json")
    assert result.exit_code == 0, result.stderr
    history = json.loads(result.stdout)["history"]
    assert history[-1]["mean_loss"] < history[0]["mean_loss"] / 2
