"""The engine's k-NN: votes against NumPy / scikit-learn, training by storing examples, and make-knn end to end."""

import numpy as np
import pytest
from PIL import Image
from sklearn.neighbors import KNeighborsClassifier

from conftest import FIXTURES
from mlsurgery.engine import build_model
from mlsurgery.engine.knn_training import train_knn
from mlsurgery.io import load_spec, save_spec
from mlsurgery.ops.knn import KnnSettings, make_knn
from mlsurgery.validate import validate_spec


def _knn_spec(dimensions, k, weighting, labels="string"):
    from coremltools.models.nearest_neighbors import KNearestNeighborsClassifierBuilder

    builder = KNearestNeighborsClassifierBuilder(
        input_name="features", output_name="label", number_of_dimensions=dimensions,
        default_class_label="none" if labels == "string" else -1, number_of_neighbors=k,
        weighting_scheme=weighting)
    return builder.spec


def _stored(spec, x, y):
    train_knn(spec, [({"features": row}, label) for row, label in zip(x, y)])
    return spec


def test_uniform_votes_match_scikit_learn():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 1, (60, 4)), rng.integers(0, 2, 60)
    queries = rng.normal(0, 1, (40, 4))
    spec = _stored(_knn_spec(4, 5, "uniform", labels="int"), x, y)
    assert validate_spec(spec).valid
    predicted = build_model(spec).predict_batch({"features": queries})["label"]
    reference = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(x, y).predict(queries)
    assert list(predicted) == list(reference)


def test_inverse_distance_weights_by_one_over_squared_distance():
    stored = np.array([[0.0], [1.0], [1.1], [3.0]])
    spec = _stored(_knn_spec(1, 3, "inverse_distance"), stored, ["a", "b", "b", "c"])
    model = build_model(spec)
    query = np.array([0.4])
    out = model.predict({"features": query})
    squared = (stored[:3, 0] - 0.4) ** 2
    a, b = 1 / squared[0], 1 / squared[1] + 1 / squared[2]
    assert out["label"] == ("a" if a > b else "b")
    assert out["labelProbs"] == pytest.approx({"a": a / (a + b), "b": b / (a + b), "c": 0.0})
    # An exact match outvotes everything.
    assert model.predict({"features": np.array([3.0])})["label"] == "c"


def test_empty_knn_predicts_its_default_label():
    out = build_model(_knn_spec(3, 3, "uniform")).predict({"features": np.zeros(3)})
    assert out["label"] == "none" and out["labelProbs"] == {}


@pytest.fixture(scope="module")
def hand_images():
    rng = np.random.default_rng(0)
    colours = {"rock": (200, 30, 30), "paper": (30, 200, 30), "scissors": (30, 30, 200)}
    return [(Image.fromarray(np.clip(np.array(colour) + rng.normal(0, 20, (227, 227, 3)), 0, 255).astype(np.uint8)),
             label) for label, colour in colours.items() for _ in range(2)]


def test_squeezenet_knn_trained_on_a_few_images_predicts_their_classes(hand_images, tmp_path):
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    make_knn(spec, "flatten", KnnSettings(k=3))
    result = train_knn(spec, [({"image": image}, label) for image, label in hand_images])
    assert result.added == result.examples == len(hand_images)
    out = tmp_path / "trained.mlmodel"
    save_spec(spec, out)
    trained = load_spec(out)
    assert validate_spec(trained).valid
    pixels = np.stack([np.asarray(image, dtype=np.float32).transpose(2, 0, 1) for image, _ in hand_images])
    predicted = build_model(trained).predict_batch({"image": pixels})["label"]
    assert list(predicted) == [label for _, label in hand_images]


def _image_folder(root, images):
    for index, (image, label) in enumerate(images):
        (root / label).mkdir(parents=True, exist_ok=True)
        image.save(root / label / f"{index}.png")
    return root


def test_train_command_on_knn_pipeline_with_an_image_folder(run_cli, hand_images, tmp_path):
    knn = tmp_path / "HandsKNN.mlmodel"
    assert run_cli("make-knn", FIXTURES / "turi_squeezenet.mlmodel", "-o", knn).exit_code == 0
    data = _image_folder(tmp_path / "data", hand_images)
    out = tmp_path / "trained.mlmodel"
    result = run_cli("train", knn, data, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert f"{len(hand_images)} examples stored" in result.stdout
    trained = load_spec(out)
    assert validate_spec(trained).valid
    model = build_model(trained)
    predicted = [model.predict({"image": str(path)})["label"] for path in sorted(data.glob("*/*.png"))]
    assert predicted == [path.parent.name for path in sorted(data.glob("*/*.png"))]


def test_train_command_takes_feature_print_features_from_a_file(run_cli, tmp_path):
    from conftest import SHARED_MODELS

    knn = tmp_path / "FlowersKNN.mlmodel"
    assert run_cli("make-knn", SHARED_MODELS / "createml_flower_classifier.mlmodel", "-k", "1", "-o", knn).exit_code == 0
    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    labels = ["daisy", "daisy", "roses", "tulips"]
    for index, label in enumerate(labels):
        (data / label).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (299, 299)).save(data / label / f"{index}.jpg")
    vectors = rng.normal(0, 1, (len(labels), 2048))
    np.save(tmp_path / "prints.npy", vectors)
    out = tmp_path / "trained.mlmodel"
    result = run_cli("train", knn, data, "--features", f"sceneprint={tmp_path / 'prints.npy'}", "-o", out)
    assert result.exit_code == 0, result.stderr
    model = build_model(load_spec(out))
    assert [model.predict({"sceneprint": vector})["classLabel"] for vector in vectors] == labels
    refused = run_cli("train", knn, data, "--features", f"sceneprint={tmp_path / 'missing.npy'}", "-o",
                      tmp_path / "x.mlmodel")
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
