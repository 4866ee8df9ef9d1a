"""Every recipe in recipes/ applies, writes models Core ML accepts, and writes the same bytes every run; the
hands-turi models are what the article's own coremltools script (make_nn.py) makes from the same fixture."""

import numpy as np
import pytest

from conftest import FIXTURES, ROOT, SHARED_MODELS
from mlsurgery.io import load_spec
from mlsurgery.recipe import apply_recipe, load_recipe
from mlsurgery.validate import validate_spec

RECIPES = sorted((ROOT / "recipes").glob("*.yaml"))
SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"
NEW_LABELS = [f"user{i}" for i in range(7)]


def _apply(name: str, output_dir):
    apply_recipe(load_recipe(ROOT / "recipes" / name), output_dir=output_dir)
    return output_dir


def test_the_recipes_are_all_here():
    assert [path.name for path in RECIPES] == ["hands-knn.yaml", "hands-turi-conv10.yaml", "hands-turi.yaml",
                                               "keras-fix.yaml",
                                               "mnist-updatable.yaml",
                                               "quickdraw.yaml", "split-mse.yaml"]


@pytest.mark.parametrize("recipe", RECIPES, ids=[path.stem for path in RECIPES])
def test_recipe_writes_valid_models_into_out_and_the_same_bytes_twice(recipe, tmp_path):
    loaded = load_recipe(recipe)
    first = apply_recipe(loaded, output_dir=tmp_path / "first")
    apply_recipe(loaded, output_dir=tmp_path / "second")

    saves = [outcome.saved for outcome in first if outcome.saved is not None]
    assert saves
    for step in (step for step in loaded.steps if step.operation == "save"):
        # Without --output-dir the models go to out/ at the repository root (ignored by git).
        assert (loaded.path.parent / step.arguments.path).resolve().parent == ROOT / "out"
    for saved in saves:
        written = saved.path.read_bytes()
        report = validate_spec(load_spec(saved.path))
        assert report.valid, [finding.message for finding in report.errors]
        assert not report.warnings, [finding.message for finding in report.warnings]
        assert written == (tmp_path / "second" / saved.path.name).read_bytes()


# --- hands-turi: the article's make_nn.py ------------------------------------------------------------------------

def _article_hands_turi():
    """make_nn.py's HandsTuri steps, as the article writes them with coremltools (shuffle seed as in the recipe)."""
    from coremltools.models.neural_network import NeuralNetworkBuilder, SgdParams

    spec = load_spec(SQUEEZENET)
    layer = spec.neuralNetworkClassifier.layers[-2]
    layer.innerProduct.outputChannels = 10
    layer.innerProduct.weights.floatValue.extend(np.zeros(7 * 1000))
    layer.innerProduct.bias.floatValue.extend(np.zeros(7))
    spec.neuralNetworkClassifier.stringClassLabels.vector.extend(NEW_LABELS)
    builder = NeuralNetworkBuilder(spec=spec)
    builder.make_updatable(["fullyconnected0"])
    builder.set_categorical_cross_entropy_loss(name="lossLayer", input="labelProbability")
    sgd = SgdParams(lr=0.001, batch=8, momentum=0)
    sgd.set_batch(8, [1, 2, 8, 16])
    builder.set_sgd_optimizer(sgd)
    builder.set_epochs(10, [1, 10, 50])
    builder.set_shuffle(seed=1234)
    builder.spec.description.trainingInput[0].shortDescription = "Example image"
    builder.spec.description.trainingInput[1].shortDescription = "True label"
    return builder.spec


def _fc(spec):
    return next(layer for layer in spec.neuralNetworkClassifier.layers if layer.name == "fullyconnected0")


@pytest.fixture(scope="module")
def hands(tmp_path_factory):
    out = _apply("hands-turi.yaml", tmp_path_factory.mktemp("hands"))
    return load_spec(out / "HandsTuri.mlmodel"), load_spec(out / "HandsEmpty.mlmodel")


def test_hands_turi_is_what_the_articles_coremltools_code_makes(hands):
    ours, theirs = hands[0], _article_hands_turi()

    network, reference = ours.neuralNetworkClassifier, theirs.neuralNetworkClassifier
    assert [layer.name for layer in network.layers if layer.isUpdatable] == ["fullyconnected0"]
    assert (ours.isUpdatable, ours.specificationVersion) == (True, 4)
    assert network.updateParams.lossLayers == reference.updateParams.lossLayers
    assert network.updateParams.optimizer == reference.updateParams.optimizer
    sgd = network.updateParams.optimizer.sgdOptimizer
    assert list(sgd.miniBatchSize.set.values) == [1, 2, 8, 16] and sgd.miniBatchSize.defaultValue == 8
    assert (sgd.learningRate.range.minValue, sgd.learningRate.range.maxValue) == (0, 1)
    assert list(network.updateParams.epochs.set.values) == [1, 10, 50]
    assert list(network.stringClassLabels.vector) == ["rock", "paper", "scissors"] + NEW_LABELS
    weights = np.array(_fc(ours).innerProduct.weights.floatValue).reshape(10, 1000)
    assert not weights[3:].any() and not np.array(_fc(ours).innerProduct.bias.floatValue)[3:].any()
    assert [feature.shortDescription for feature in ours.description.trainingInput] == ["Example image",
                                                                                         "True label"]
    assert ours == theirs


def test_hands_empty_has_a_kaiming_initialised_classifier_and_nothing_else_changed(hands):
    turi, empty = hands
    weights = np.array(_fc(empty).innerProduct.weights.floatValue, dtype=np.float32)
    bias = np.array(_fc(empty).innerProduct.bias.floatValue, dtype=np.float32)
    old_weights = np.array(_fc(turi).innerProduct.weights.floatValue, dtype=np.float32)

    weight_bound, bias_bound = np.float32(np.sqrt(6.0 / 1000)), np.float32(1 / np.sqrt(1000))
    assert weights.shape == (10_000,) and bias.shape == (10,)
    assert np.abs(weights).max() <= weight_bound and np.abs(bias).max() <= bias_bound
    # U(-b, b) has standard deviation b/√3 and its draws fill the interval.
    assert abs(weights.std() - weight_bound / np.sqrt(3)) < 0.02 * weight_bound
    assert np.abs(weights).max() > 0.99 * weight_bound
    assert not np.any(weights[:3000] == old_weights[:3000])
    assert np.count_nonzero(weights[3000:]) == 7000 and np.count_nonzero(bias) == 10

    # Everything but the classifier's parameters and the description is HandsTuri.
    restored = type(empty)()
    restored.CopyFrom(empty)
    _fc(restored).innerProduct.weights.CopyFrom(_fc(turi).innerProduct.weights)
    _fc(restored).innerProduct.bias.CopyFrom(_fc(turi).innerProduct.bias)
    restored.description.metadata.shortDescription = turi.description.metadata.shortDescription
    assert restored == turi


def test_hands_turi_conv10_also_trains_conv10_and_keeps_its_pretrained_weights(tmp_path):
    _apply("hands-turi-conv10.yaml", tmp_path)
    original = load_spec(SQUEEZENET)

    for name in ("HandsTuriConv10.mlmodel", "HandsEmptyConv10.mlmodel"):
        network = load_spec(tmp_path / name).neuralNetworkClassifier
        assert [layer.name for layer in network.layers if layer.isUpdatable] == ["conv10", "fullyconnected0"]
        conv10 = next(layer for layer in network.layers if layer.name == "conv10")
        assert conv10.convolution.weights.isUpdatable and conv10.convolution.bias.isUpdatable
        assert conv10.convolution.weights.floatValue == next(
            layer for layer in original.neuralNetworkClassifier.layers if layer.name == "conv10"
        ).convolution.weights.floatValue


def test_mnist_updatable_has_the_coremltools_example_shape(tmp_path):
    _apply("mnist-updatable.yaml", tmp_path)
    network = load_spec(tmp_path / "MNISTUpdatable.mlmodel").neuralNetworkClassifier
    params = network.updateParams

    assert [layer.name for layer in network.layers if layer.isUpdatable] == ["dense_2", "dense_3"]
    assert params.lossLayers[0].categoricalCrossEntropyLossLayer.input == "labelProbabilities"
    sgd = params.optimizer.sgdOptimizer
    assert (sgd.learningRate.defaultValue, sgd.miniBatchSize.defaultValue) == (0.01, 32)
    assert params.epochs.defaultValue == 10


def test_split_mse_trains_through_the_sigmoid_with_adam(tmp_path):
    _apply("split-mse.yaml", tmp_path)
    spec = load_spec(tmp_path / "SplitMSE.mlmodel")
    params = spec.neuralNetwork.updateParams

    loss = params.lossLayers[0].meanSquaredErrorLossLayer
    assert (loss.input, loss.target) == ("Sigmoid_8", "Sigmoid_8_true")
    target = next(feature for feature in spec.description.trainingInput if feature.name == "Sigmoid_8_true")
    assert list(target.type.multiArrayType.shape) == [1, 1, 100]
    adam = params.optimizer.adamOptimizer
    assert (adam.beta1.defaultValue, adam.beta2.defaultValue, adam.eps.defaultValue) == (0.9, 0.999, 1e-8)
    assert [layer.name for layer in spec.neuralNetwork.layers if layer.isUpdatable] == [
        "Conv_1", "Conv_3", "Conv_5", "Conv_7"]


def test_quickdraw_gets_user_classes_and_a_trainable_head(tmp_path):
    _apply("quickdraw.yaml", tmp_path)
    network = load_spec(tmp_path / "QuickDrawUpdatable.mlmodel").neuralNetworkClassifier
    original = load_spec(SHARED_MODELS / "quickdraw_classifier.mlmodel").neuralNetworkClassifier

    assert list(network.stringClassLabels.vector) == list(original.stringClassLabels.vector) + [
        f"user{i}" for i in range(5)]
    assert [layer.name for layer in network.layers if layer.isUpdatable] == ["dense_2", "dense_3"]
    dense_3 = np.array(network.layers[11].innerProduct.weights.floatValue).reshape(20, 128)
    assert not dense_3[15:].any()
    assert np.array_equal(dense_3[:15].ravel(), np.array(original.layers[11].innerProduct.weights.floatValue))


def test_hands_knn_is_the_make_knn_script_pipeline(tmp_path):
    """The k-NN stage make_knn.py builds with coremltools' builder, and the feature extractor it cuts by hand."""
    from coremltools.models.nearest_neighbors import KNearestNeighborsClassifierBuilder

    out = _apply("hands-knn.yaml", tmp_path)
    spec = load_spec(out / "HandsKNN.mlmodel")
    extractor, knn = spec.pipelineClassifier.pipeline.models
    builder = KNearestNeighborsClassifierBuilder(input_name="features", output_name="label", number_of_dimensions=1000,
                                                 default_class_label="???", number_of_neighbors=3,
                                                 weighting_scheme="inverse_distance", index_type="linear")
    builder.set_number_of_neighbors_with_bounds(3, allowed_range=(1, 10))
    assert knn.kNearestNeighborsClassifier == builder.spec.kNearestNeighborsClassifier
    source = load_spec(SQUEEZENET).neuralNetworkClassifier
    assert list(extractor.neuralNetwork.layers) == list(source.layers[:-2])  # make_knn.py: del layers[-1] twice
    assert list(extractor.neuralNetwork.preprocessing) == list(source.preprocessing)
    assert [f.name for f in spec.description.trainingInput] == ["image", "label"]


# --- keras-fix: converter output made trainable --------------------------------------------------------------

def test_keras_fix_trains_inner_products_that_predict_as_the_converted_model(tmp_path):
    from mlsurgery.engine import compare_predictions

    _apply("keras-fix.yaml", tmp_path)
    spec = load_spec(tmp_path / "KerasRegressor.mlmodel")
    layers = spec.neuralNetwork.layers
    assert [layer.WhichOneof("layer") for layer in layers].count("batchedMatmul") == 0
    assert [layer.name for layer in layers if layer.isUpdatable] == ["sequential/dense_1/MatMul", "Identity"]
    original = load_spec(SHARED_MODELS / "keras_batchedmatmul_mlp.mlmodel")
    assert compare_predictions(original, spec, seed=2).agree
