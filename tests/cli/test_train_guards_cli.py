"""What train refuses before it writes a model: NaN / infinite data in every format it reads, corrupt or
truncated files of every kind, a loss that diverges, missing optional dependencies; and the job's output checks
(output path before training, --dry-run, --in-place). Each refusal: one line, the exit code, nothing written."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import FIXTURES, ROOT, SHARED_MODELS

REGRESSOR = SHARED_MODELS / "updatable_mse_regressor.mlmodel"  # SGD, learningRate 0.001 in [0, 0.3], batch 32


def _regression_data(count: int = 64, scale: float = 1.0, seed: int = 2):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((count, 13)) * scale).astype(np.float32)
    y = (x @ rng.standard_normal(13) * 0.1).astype(np.float32).reshape(count, 1)
    return x, y


def _write_csv(path, x, y, cells: dict | None = None):
    header = ",".join([f"input[{i}]" for i in range(x.shape[1])] + ["output_true"])
    rows = [[f"{v:.6f}" for v in list(features) + [target[0]]] for features, target in zip(x, y)]
    for (row, column), text in (cells or {}).items():
        rows[row][column] = text
    path.write_text("\n".join([header] + [",".join(row) for row in rows]) + "\n")


def _refused(result, code: int, *needles, output=None):
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert str(needle) in lines[0], lines[0]
    if output is not None:
        assert not output.exists()


IMAGE_CLASSIFIER = SHARED_MODELS / "simple_mnist_batchnorm.mlmodel"  # a 28 × 28 gray image input, labels 0–9


@pytest.fixture(scope="module")
def mnist_updatable(tmp_path_factory):
    """The MNIST MLP fixture (a [1, 28, 28] array input) with its last dense layer updatable."""
    from mlsurgery.cli import main

    folder = tmp_path_factory.mktemp("mnist")
    model = folder / "mnist_updatable.mlmodel"
    assert main(["make-updatable", str(FIXTURES / "mnist_mlp.mlmodel"), "--layers", "dense_3", "--optimizer", "sgd",
                 "--lr", "0.01", "--batch", "2", "--epochs", "1", "-o", str(model)]) == 0
    return model


@pytest.fixture(scope="module")
def images_updatable(tmp_path_factory):
    """A third-party MNIST classifier whose input is an image, made updatable."""
    from mlsurgery.cli import main

    model = tmp_path_factory.mktemp("images") / "images_updatable.mlmodel"
    assert main(["make-updatable", str(IMAGE_CLASSIFIER), "--layers", "auto", "--optimizer", "sgd", "--lr", "0.01",
                 "--batch", "2", "--epochs", "1", "-o", str(model)]) == 0
    return model


def _image_folder(root, count: int = 2):
    rng = np.random.default_rng(0)
    for label in ("3", "7"):
        (root / label).mkdir(parents=True)
        for index in range(count):
            Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8), "L").save(root / label / f"{index}.png")
    return root


# --- NaN and infinity in the data ----------------------------------------------------------------------------

@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")])
def test_npz_holding_nan_or_infinity_names_the_array_and_example(run_cli, tmp_path, value, word):
    x, y = _regression_data()
    x[7, 4] = value
    np.savez(tmp_path / "data.npz", input=x, output_true=y)
    out = tmp_path / "out.mlmodel"
    _refused(run_cli("train", REGRESSOR, tmp_path / "data.npz", "-o", out), 2,
             tmp_path / "data.npz", "array 'input'", f"{word} at example 7", output=out)


def test_a_nan_target_is_refused_too(run_cli, tmp_path):
    x, y = _regression_data()
    y[40] = np.nan
    np.savez(tmp_path / "data.npz", input=x, output_true=y)
    out = tmp_path / "out.mlmodel"
    _refused(run_cli("train", REGRESSOR, tmp_path / "data.npz", "-o", out), 2,
             "array 'output_true'", "NaN at example 40", output=out)


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity"])
def test_csv_holding_nan_or_infinity_names_the_column_and_example(run_cli, tmp_path, text):
    x, y = _regression_data()
    _write_csv(tmp_path / "data.csv", x, y, {(5, 3): text})
    out = tmp_path / "out.mlmodel"
    _refused(run_cli("train", REGRESSOR, tmp_path / "data.csv", "-o", out), 2,
             tmp_path / "data.csv", "column 'input[3]'", "at example 5", output=out)


def test_nan_in_validation_data_is_refused_before_training(run_cli, tmp_path):
    x, y = _regression_data()
    np.savez(tmp_path / "train.npz", input=x, output_true=y)
    x[0, 0] = np.nan
    np.savez(tmp_path / "validation.npz", input=x, output_true=y)
    out = tmp_path / "out.mlmodel"
    _refused(run_cli("train", REGRESSOR, tmp_path / "train.npz", "--validation", tmp_path / "validation.npz",
                     "-o", out), 2, tmp_path / "validation.npz", "NaN at example 0", output=out)


def test_nan_pixels_in_an_npz_are_refused(run_cli, tmp_path, mnist_updatable):
    images = np.random.default_rng(0).random((6, 1, 28, 28)).astype(np.float32)
    images[3, 0, 5, 5] = np.nan
    np.savez(tmp_path / "images.npz", image=images, classLabel=np.array([0, 1, 2, 3, 4, 5]))
    out = tmp_path / "out.mlmodel"
    _refused(run_cli("train", mnist_updatable, tmp_path / "images.npz", "-o", out), 2,
             "array 'image'", "NaN at example 3", output=out)


def test_nan_feature_vectors_for_a_knn_are_refused(run_cli, tmp_path):
    knn = tmp_path / "FlowersKNN.mlmodel"
    assert run_cli("make-knn", SHARED_MODELS / "createml_flower_classifier.mlmodel", "-k", "1", "-o", knn).exit_code == 0
    data = tmp_path / "data"
    for index, label in enumerate(["daisy", "roses"]):
        (data / label).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(data / label / f"{index}.jpg")
    vectors = np.ones((2, 2048))
    vectors[1, 9] = np.nan
    np.save(tmp_path / "prints.npy", vectors)
    out = tmp_path / "out.mlmodel"
    _refused(run_cli("train", knn, data, "--features", f"sceneprint={tmp_path / 'prints.npy'}", "-o", out), 2,
             tmp_path / "prints.npy", "NaN at example 1", output=out)


# --- corrupt and truncated files -------------------------------------------------------------------------------

def _npz_bytes(compressed: bool) -> bytes:
    x, y = _regression_data()
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, input=x, output_true=y)
    return buffer.getvalue()


def _damaged(data: bytes, how: str) -> bytes:
    if how == "truncated":
        return data[:len(data) // 2]
    if how == "cut-at-end":
        return data[:-20]
    damaged = bytearray(data)
    middle = len(damaged) // 2
    damaged[middle:middle + 64] = bytes(64)
    return bytes(damaged)


@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
@pytest.mark.parametrize("how", ["truncated", "cut-at-end", "zeroed-middle"])
def test_a_damaged_npz_is_one_line_naming_it(run_cli, tmp_path, compressed, how):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(_damaged(_npz_bytes(compressed), how))
    out = tmp_path / "out.mlmodel"
    _refused(run_cli("train", REGRESSOR, broken, "-o", out), 2, broken, output=out)


@pytest.mark.parametrize("how", ["truncated", "short-row", "binary"])
def test_a_damaged_csv_is_one_line_naming_it(run_cli, tmp_path, how):
    x, y = _regression_data()
    _write_csv(tmp_path / "good.csv", x, y)
    text = (tmp_path / "good.csv").read_bytes()
    broken = tmp_path / "broken.csv"
    if how == "truncated":
        broken.write_bytes(text[:len(text) // 2])  # cut inside a row: it has fewer values than the header
    elif how == "short-row":
        lines = text.decode().splitlines()
        lines[10] = ",".join(lines[10].split(",")[:5])
        broken.write_text("\n".join(lines) + "\n")
    else:
        broken.write_bytes(_npz_bytes(True))
    out = tmp_path / "out.mlmodel"
    _refused(run_cli("train", REGRESSOR, broken, "-o", out), 2, broken, output=out)


@pytest.mark.parametrize("suffix, format_name", [(".png", "PNG"), (".jpg", "JPEG"), (".bmp", "BMP"),
                                                 (".gif", "GIF"), (".tiff", "TIFF"), (".webp", "WEBP")])
@pytest.mark.parametrize("how", ["truncated", "header-only"])
def test_a_damaged_image_in_a_class_folder_is_one_line_naming_it(run_cli, tmp_path, images_updatable, suffix,
                                                                  format_name, how):
    folder = _image_folder(tmp_path / "data")
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8), "L").save(buffer,
                                                                                                   format_name)
    data = buffer.getvalue()
    broken = folder / "7" / f"broken{suffix}"
    broken.write_bytes(data[:len(data) // 2] if how == "truncated" else data[:12])
    out = tmp_path / "out.mlmodel"
    _refused(run_cli("train", images_updatable, folder, "-o", out), 2, broken, output=out)


def test_a_damaged_npy_of_knn_features_is_one_line_naming_it(run_cli, tmp_path):
    knn = tmp_path / "FlowersKNN.mlmodel"
    assert run_cli("make-knn", SHARED_MODELS / "createml_flower_classifier.mlmodel", "-k", "1", "-o", knn).exit_code == 0
    data = tmp_path / "data"
    for index, label in enumerate(["daisy", "roses"]):
        (data / label).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(data / label / f"{index}.jpg")
    buffer = io.BytesIO()
    np.save(buffer, np.ones((2, 2048)))
    broken = tmp_path / "prints.npy"
    broken.write_bytes(buffer.getvalue()[:5000])
    out = tmp_path / "out.mlmodel"
    _refused(run_cli("train", knn, data, "--features", f"sceneprint={broken}", "-o", out), 2, broken, output=out)


def test_a_damaged_npy_input_to_predict_is_one_line_naming_it(run_cli, tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.ones(13, dtype=np.float32))
    broken = tmp_path / "input.npy"
    broken.write_bytes(buffer.getvalue()[:100])
    _refused(run_cli("predict", REGRESSOR, "--input", f"input={broken}"), 2, broken)


# --- a loss that diverges ------------------------------------------------------------------------------------

def test_a_diverging_loss_stops_the_run_naming_epoch_batch_and_smaller_rates(run_cli, tmp_path):
    x, y = _regression_data(count=96, scale=1000.0)
    np.savez(tmp_path / "data.npz", input=x, output_true=y)
    out = tmp_path / "out.mlmodel"
    result = run_cli("train", REGRESSOR, tmp_path / "data.npz", "--set", "learningRate=0.3", "-o", out)
    _refused(result, 1, "epoch 1, mini-batch", "learning rate 0.3", "allows learning rates from 0 up to 0.3",
             "--set learningRate=0.03", output=out)


def test_force_writes_a_diverged_run(run_cli, tmp_path):
    x, y = _regression_data(count=96, scale=1000.0)
    np.savez(tmp_path / "data.npz", input=x, output_true=y)
    out = tmp_path / "out.mlmodel"
    result = run_cli("train", REGRESSOR, tmp_path / "data.npz", "--set", "learningRate=0.3", "--force", "-o", out,
                     "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert not np.isfinite(json.loads(result.stdout)["history"][-1]["loss"])
    assert out.exists()


# --- the job: output first, --dry-run, --in-place --------------------------------------------------------------

def test_the_output_path_is_checked_before_the_data_is_read(run_cli, tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 truncated")
    result = run_cli("train", REGRESSOR, broken, "-o", tmp_path / "missing" / "out.mlmodel")
    _refused(result, 2, "folder", "does not exist")


def test_dry_run_trains_and_writes_nothing(run_cli, tmp_path):
    x, y = _regression_data()
    np.savez(tmp_path / "data.npz", input=x, output_true=y)
    out = tmp_path / "out.mlmodel"
    result = run_cli("train", REGRESSOR, tmp_path / "data.npz", "--set", "epochs=500", "--dry-run", "-o", out,
                     "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["output"] is None and len(report["history"]) == 500
    assert not out.exists()


def test_writing_over_the_input_needs_in_place(run_cli, tmp_path, fixture_copy):
    model = fixture_copy("updatable_mse_regressor.mlmodel")
    before = model.read_bytes()
    x, y = _regression_data()
    np.savez(tmp_path / "data.npz", input=x, output_true=y)
    _refused(run_cli("train", model, tmp_path / "data.npz", "-o", model), 2, "--in-place")
    assert model.read_bytes() == before
    result = run_cli("train", model, tmp_path / "data.npz", "-o", model, "--in-place")
    assert result.exit_code == 0, result.stderr
    assert model.read_bytes() != before


# --- missing optional dependencies ---------------------------------------------------------------------------

def _without(module: str, arguments: list) -> subprocess.CompletedProcess:
    """The real CLI in a fresh interpreter where importing ``module`` fails, as when it is not installed."""
    code = (f"import sys\nsys.modules[{module!r}] = None\nfrom mlsurgery.cli import main\n"
            f"sys.exit(main({[str(a) for a in arguments]!r}))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _names_the_extra(done: subprocess.CompletedProcess, missing: str):
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert missing in lines[0] and "pip install 'mlsurgery[train]'" in lines[0]


def test_without_torch_train_names_the_extra(tmp_path):
    x, y = _regression_data()
    np.savez(tmp_path / "data.npz", input=x, output_true=y)
    done = _without("torch", ["train", REGRESSOR, tmp_path / "data.npz", "-o", tmp_path / "out.mlmodel"])
    _names_the_extra(done, "PyTorch")
    assert not (tmp_path / "out.mlmodel").exists()


@pytest.mark.parametrize("arguments", [["--random-inputs"], ["--input", "input={image}"]],
                         ids=["random-image", "image-file"])
def test_without_pillow_predict_on_an_image_model_names_the_extra(tmp_path, arguments):
    image = tmp_path / "digit.png"
    Image.new("L", (28, 28)).save(image)
    done = _without("PIL", ["predict", IMAGE_CLASSIFIER,
                            *[a.format(image=image) for a in arguments]])
    _names_the_extra(done, "pillow")


def test_without_pillow_train_on_an_image_folder_names_the_extra(tmp_path, images_updatable):
    folder = _image_folder(tmp_path / "data")
    done = _without("PIL", ["train", images_updatable, folder, "-o", tmp_path / "out.mlmodel"])
    _names_the_extra(done, "pillow")
    assert not (tmp_path / "out.mlmodel").exists()
