"""evaluate and predict --data against independent references: PyTorch models converted here (their predictions
computed by PyTorch, the metrics by scikit-learn), a real third-party CNN rebuilt in PyTorch from its own weights,
a k-NN pipeline against scikit-learn's nearest neighbours, and real models on scikit-learn's digits with known
labels."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn import metrics as sk
from sklearn.datasets import load_digits
from sklearn.neighbors import KNeighborsClassifier

from conftest import SHARED_MODELS
from mlsurgery.evaluation import evaluate_file, predict_data_file
from mlsurgery.io import load_spec, save_spec

CLASSES = ["bird", "cat", "dog"]


class _Classifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden, self.out = torch.nn.Linear(8, 16), torch.nn.Linear(16, 3)

    def forward(self, x):
        return torch.softmax(self.out(torch.relu(self.hidden(x))), dim=1)


class _Regressor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden, self.out = torch.nn.Linear(5, 8), torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))


def _convert(module, shape, classes=None):
    import coremltools as ct

    module.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, torch.randn(*shape))
        model = ct.convert(traced, convert_to="neuralnetwork", inputs=[ct.TensorType(name="x", shape=shape)],
                           classifier_config=ct.ClassifierConfig(classes) if classes else None)
    return model.get_spec()


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    torch.manual_seed(5)
    module = _Classifier()
    folder = tmp_path_factory.mktemp("classifier")
    spec = _convert(module, (1, 8), CLASSES)
    save_spec(spec, folder / "classifier.mlmodel")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(150, 8)).astype(np.float32)
    with torch.no_grad():
        probabilities = module(torch.from_numpy(x)).numpy()
    # Truth: PyTorch's own answer for two thirds of the examples, a random class for the rest.
    truth = np.array(CLASSES)[probabilities.argmax(axis=1)]
    noisy = rng.random(150) < 1 / 3
    truth[noisy] = np.array(CLASSES)[rng.integers(0, 3, noisy.sum())]
    np.savez(folder / "data.npz", x=x, **{spec.description.predictedFeatureName: truth})
    return folder, spec, probabilities, truth


def test_a_converted_classifier_agrees_with_pytorch_and_scikit_learn(classifier):
    folder, spec, probabilities, truth = classifier
    predicted = np.array(CLASSES)[probabilities.argmax(axis=1)]
    [measured] = evaluate_file(folder / "classifier.mlmodel", folder / "data.npz", top_k=(2,)).outputs
    metrics = measured.metrics
    assert measured.task == "classification" and measured.truth == spec.description.predictedFeatureName
    assert metrics.accuracy == pytest.approx(sk.accuracy_score(truth, predicted))
    assert metrics.top_k[2] == pytest.approx(sk.top_k_accuracy_score(truth, probabilities, k=2, labels=CLASSES))
    assert metrics.classes == CLASSES
    assert metrics.confusion.tolist() == sk.confusion_matrix(truth, predicted, labels=CLASSES).tolist()
    precision, recall, f1, _ = sk.precision_recall_fscore_support(truth, predicted, labels=CLASSES, zero_division=0)
    assert [row.f1 for row in metrics.per_class] == pytest.approx(f1.tolist())
    assert [row.precision for row in metrics.per_class] == pytest.approx(precision.tolist())
    assert [row.recall for row in metrics.per_class] == pytest.approx(recall.tolist())


def test_predict_data_writes_one_row_per_example_as_pytorch_predicts(classifier, tmp_path):
    folder, spec, probabilities, _ = classifier
    label = spec.description.predictedFeatureName
    scores = spec.description.predictedProbabilitiesName
    assert predict_data_file(folder / "classifier.mlmodel", folder / "data.npz", tmp_path / "p.jsonl") == 150
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [row["example"] for row in rows] == list(range(150))
    assert [row[label] for row in rows] == list(np.array(CLASSES)[probabilities.argmax(axis=1)])
    assert np.allclose([[row[scores][c] for c in CLASSES] for row in rows], probabilities, atol=1e-5)

    predict_data_file(folder / "classifier.mlmodel", folder / "data.npz", tmp_path / "p.csv")
    import csv

    with (tmp_path / "p.csv").open() as stream:
        table = list(csv.DictReader(stream))
    assert len(table) == 150
    assert np.allclose([[float(row[f"{scores}[{c}]"]) for c in CLASSES] for row in table], probabilities, atol=1e-5)


def test_a_converted_regressor_agrees_with_numpy_on_pytorch_outputs_from_npz_and_csv(tmp_path):
    torch.manual_seed(9)
    module = _Regressor()
    spec = _convert(module, (1, 5))
    output = spec.description.output[0].name
    save_spec(spec, tmp_path / "regressor.mlmodel")
    rng = np.random.default_rng(9)
    x = rng.normal(size=(80, 5)).astype(np.float32)
    truth = rng.normal(size=(80, 2)).astype(np.float32)
    with torch.no_grad():
        predicted = module(torch.from_numpy(x)).numpy().astype(np.float64)
    errors = predicted - truth
    np.savez(tmp_path / "data.npz", x=x, **{output: truth})
    header = [f"x[{i}]" for i in range(5)] + [f"{output}[{i}]" for i in range(2)]
    lines = [",".join(header)] + [",".join(repr(float(v)) for v in row) for row in np.hstack([x, truth])]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    for data in ("data.npz", "data.csv"):
        [measured] = evaluate_file(tmp_path / "regressor.mlmodel", tmp_path / data).outputs
        assert measured.task == "regression"
        assert measured.metrics.mse == pytest.approx(np.mean(errors ** 2), rel=1e-5)
        assert measured.metrics.mae == pytest.approx(np.mean(np.abs(errors)), rel=1e-5)
        assert measured.metrics.largest_error == pytest.approx(np.abs(errors).max(), rel=1e-5)
        assert measured.metrics.largest_error_example == int(np.abs(errors).max(axis=1).argmax())


# --- real third-party models on scikit-learn's digits (known labels) ----------------------------------------

def _digits_28(scale: float = 1.0):
    """The 8 × 8 digits resized (bilinear) to 20 × 20, centred in 28 × 28 as MNIST digits are; values 0–scale."""
    digits = load_digits()
    images = [np.asarray(Image.fromarray((image / 16 * 255).astype(np.uint8)).resize((20, 20), Image.BILINEAR),
                         dtype=np.float32) / 255 * scale for image in digits.images]
    return np.pad(np.array(images), ((0, 0), (4, 4), (4, 4)))[:, None], digits.target


def _mnist_cnn_in_pytorch(spec) -> torch.nn.Module:
    """fixtures/third_party/mnist_cnn.mlmodel rebuilt in PyTorch from its own weights (PyTorch's MNIST example:
    conv 5×5 → max-pool 2 → ReLU, twice, then two dense layers; valid padding, weights [out, in, kH, kW])."""
    layers = {layer.name: layer for layer in spec.neuralNetwork.layers}

    def conv(name):
        params = layers[name].convolution
        module = torch.nn.Conv2d(params.kernelChannels, params.outputChannels, tuple(params.kernelSize))
        module.weight.data = torch.tensor(list(params.weights.floatValue)).reshape(module.weight.shape)
        module.bias.data = torch.tensor(list(params.bias.floatValue))
        return module

    def dense(name):
        params = layers[name].innerProduct
        module = torch.nn.Linear(params.inputChannels, params.outputChannels)
        module.weight.data = torch.tensor(list(params.weights.floatValue)).reshape(module.weight.shape)
        module.bias.data = torch.tensor(list(params.bias.floatValue))
        return module

    return torch.nn.Sequential(conv("Conv_0"), torch.nn.MaxPool2d(2), torch.nn.ReLU(), conv("Conv_3"),
                               torch.nn.MaxPool2d(2), torch.nn.ReLU(), torch.nn.Flatten(), dense("Gemm_7"),
                               dense("Gemm_8")).eval()


def test_a_real_cnn_on_digits_agrees_with_its_pytorch_rebuild_and_the_known_labels(tmp_path):
    model_path = SHARED_MODELS / "mnist_cnn.mlmodel"
    spec = load_spec(model_path)
    images, labels = _digits_28()
    output, data_input = spec.description.output[0].name, spec.description.input[0].name
    np.savez(tmp_path / "digits.npz", **{data_input: images, output: labels})  # class indices named after the output
    with torch.no_grad():
        logits = _mnist_cnn_in_pytorch(spec)(torch.from_numpy(images)).numpy()
    predicted = logits.argmax(axis=1)

    [measured] = evaluate_file(model_path, tmp_path / "digits.npz", top_k=(3,)).outputs
    metrics = measured.metrics
    assert measured.task == "classification"  # one whole number per example against 10 scores
    assert metrics.accuracy == pytest.approx(sk.accuracy_score(labels, predicted))
    assert metrics.accuracy > 0.6  # a digit recogniser recognises digits (chance: 0.1)
    assert metrics.top_k[3] == pytest.approx(sk.top_k_accuracy_score(labels, logits, k=3))
    assert metrics.confusion.tolist() == sk.confusion_matrix(labels, predicted).tolist()
    assert metrics.confusion.sum(axis=1).tolist() == np.bincount(labels).tolist()


def test_a_real_image_classifier_on_digits_from_a_class_folder(tmp_path):
    """simple_mnist_batchnorm: a neuralNetworkClassifier with string labels '0'…'9' and a 28 × 28 gray image
    input, given as a folder of class folders of PNGs (Create ML's layout)."""
    images, labels = _digits_28(scale=255)
    chosen = np.concatenate([np.nonzero(labels == digit)[0][:12] for digit in range(10)])
    for index in chosen:
        folder = tmp_path / "digits" / str(labels[index])
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[index, 0].astype(np.uint8), "L").save(folder / f"{index}.png")
    evaluation = evaluate_file(SHARED_MODELS / "simple_mnist_batchnorm.mlmodel", tmp_path / "digits")
    metrics = evaluation.classification()
    assert evaluation.examples == 120
    assert metrics.classes == [str(d) for d in range(10)]
    assert metrics.confusion.sum(axis=1).tolist() == [12] * 10  # the folder names are the truth
    assert metrics.accuracy > 0.4  # chance: 0.1


# --- a k-NN pipeline -------------------------------------------------------------------------------------------

def test_a_knn_pipeline_agrees_with_scikit_learn_neighbours_on_pytorch_features(tmp_path, run_cli):
    torch.manual_seed(2)
    extractor = torch.nn.Sequential(torch.nn.Linear(64, 12), torch.nn.Tanh()).eval()
    save_spec(_convert(extractor, (1, 64)), tmp_path / "extractor.mlmodel")
    assert run_cli("make-knn", tmp_path / "extractor.mlmodel", "-k", "1", "--labels", "int",
                   "-o", tmp_path / "knn.mlmodel").exit_code == 0
    knn = load_spec(tmp_path / "knn.mlmodel")
    label = knn.description.predictedFeatureName
    digits = load_digits()
    x, y = (digits.data / 16).astype(np.float32), digits.target
    np.savez(tmp_path / "train.npz", x=x[:1200], **{label: y[:1200]})
    np.savez(tmp_path / "test.npz", x=x[1200:], **{label: y[1200:]})
    assert run_cli("train", tmp_path / "knn.mlmodel", tmp_path / "train.npz",
                   "-o", tmp_path / "stored.mlmodel").exit_code == 0

    with torch.no_grad():
        features = extractor(torch.from_numpy(x)).numpy()
    reference = KNeighborsClassifier(n_neighbors=1, algorithm="brute").fit(features[:1200], y[:1200])
    expected = reference.predict(features[1200:])
    metrics = evaluate_file(tmp_path / "stored.mlmodel", tmp_path / "test.npz").classification()
    assert metrics.accuracy == pytest.approx(sk.accuracy_score(y[1200:], expected))
    assert metrics.accuracy > 0.8
    assert metrics.confusion.tolist() == sk.confusion_matrix(y[1200:], expected, labels=metrics.classes).tolist()
