"""make_updatable sets exactly what the classic coremltools script sets, and re-running it replaces, never adds."""

import pytest

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.errors import MLSurgeryError, SurgeryError, UsageError
from mlsurgery.io import load_spec, serialize_spec
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.ops.update_parameters import EpochSettings, OptimizerSettings

ARTICLE_OPTIMIZER = OptimizerSettings(learning_rate=0.001, batch=8, batch_values=(1, 2, 8, 16), momentum=0.0)
ARTICLE_EPOCHS = EpochSettings(10, (1, 10, 50))


def _with_coremltools_builder(path, layers, loss_input):
    """The make_nn.py steps of 'On-device training with Core ML – part 4', done by coremltools itself."""
    from coremltools.models.neural_network import NeuralNetworkBuilder, SgdParams

    builder = NeuralNetworkBuilder(spec=load_spec(path))
    builder.make_updatable(layers)
    builder.set_categorical_cross_entropy_loss(name="lossLayer", input=loss_input)
    sgd = SgdParams(lr=0.001, batch=8, momentum=0)
    sgd.set_batch(8, [1, 2, 8, 16])
    builder.set_sgd_optimizer(sgd)
    builder.set_epochs(10, [1, 10, 50])
    return builder.spec


@pytest.mark.parametrize("path, layers, loss_input", [
    (FIXTURES / "turi_squeezenet.mlmodel", ["fullyconnected0"], "labelProbability"),
    (FIXTURES / "turi_squeezenet.mlmodel", ["fullyconnected0", "conv10"], "labelProbability"),
    (SHARED_MODELS / "quickdraw_classifier.mlmodel", ["dense_2", "dense_3"], "output"),
    (FIXTURES / "mnist_mlp.mlmodel", ["dense_2", "dense_3"], "labelProbabilities"),
], ids=["squeezenet-fc", "squeezenet-fc-conv10", "quickdraw", "mnist-int64-labels"])
def test_same_spec_as_the_articles_coremltools_script(path, layers, loss_input):
    ours = load_spec(path)
    make_updatable(ours, layers, optimizer=ARTICLE_OPTIMIZER, epochs=ARTICLE_EPOCHS)
    theirs = _with_coremltools_builder(path, layers, loss_input)
    assert ours.description == theirs.description
    assert ours == theirs


def test_running_twice_gives_identical_bytes():
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    make_updatable(spec, ["fullyconnected0", "conv10"], optimizer=ARTICLE_OPTIMIZER, seed=7)
    once = serialize_spec(spec)
    make_updatable(spec, ["fullyconnected0", "conv10"], optimizer=ARTICLE_OPTIMIZER, seed=7)
    assert serialize_spec(spec) == once


def test_new_settings_replace_the_old_ones():
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    make_updatable(spec, ["fullyconnected0", "conv10"], optimizer=ARTICLE_OPTIMIZER, epochs=ARTICLE_EPOCHS, seed=3)
    make_updatable(spec, ["fullyconnected0"], optimizer=OptimizerSettings(kind="adam", batch=16),
                   epochs=EpochSettings(5))
    network = spec.neuralNetworkClassifier
    layers = {layer.name: layer for layer in network.layers}
    assert [name for name, layer in layers.items() if layer.isUpdatable] == ["fullyconnected0"]
    assert not layers["conv10"].convolution.weights.isUpdatable and not layers["conv10"].convolution.bias.isUpdatable
    params = network.updateParams
    assert params.optimizer.WhichOneof("OptimizerType") == "adamOptimizer"
    assert list(params.optimizer.adamOptimizer.miniBatchSize.set.values) == [16]
    assert list(params.epochs.set.values) == [5]
    assert not params.HasField("seed")
    assert len(params.lossLayers) == 1
    assert [f.name for f in spec.description.trainingInput] == ["image", "label"]


def test_training_input_descriptions_survive_a_rerun():
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    make_updatable(spec, ["fullyconnected0"])
    spec.description.trainingInput[1].shortDescription = "True label"
    make_updatable(spec, ["fullyconnected0", "conv10"])
    assert spec.description.trainingInput[1].shortDescription == "True label"


def test_regressor_gets_mse_with_a_double_target_shaped_like_the_output():
    spec = load_spec(FIXTURES / "regressor.mlmodel")
    make_updatable(spec, ["dense_2"])
    loss = spec.neuralNetworkRegressor.updateParams.lossLayers[0]
    assert loss.meanSquaredErrorLossLayer.input == "target"
    target = spec.description.trainingInput[-1]
    assert target.name == "target_true"
    assert list(target.type.multiArrayType.shape) == list(spec.description.output[0].type.multiArrayType.shape)
    assert target.type.multiArrayType.ArrayDataType.Name(target.type.multiArrayType.dataType) == "DOUBLE"


def test_mse_target_shape_read_through_a_reshape():
    spec = load_spec(FIXTURES / "split_1d.mlmodel")
    make_updatable(spec, ["Conv_7"], loss="mse", loss_input="Sigmoid_8")
    target = spec.description.trainingInput[-1]
    assert (target.name, list(target.type.multiArrayType.shape)) == ("Sigmoid_8_true", [1, 1, 100])


def test_pipeline_marks_the_path_to_the_last_stage():
    spec = load_spec(FIXTURES / "pipeline.mlmodel")
    make_updatable(spec, ["classifier"])
    stages = spec.pipelineClassifier.pipeline.models
    assert spec.isUpdatable and spec.specificationVersion >= 4
    assert [stage.isUpdatable for stage in stages] == [False, True]
    assert stages[1].specificationVersion >= 4
    assert [f.name for f in stages[1].description.trainingInput] == ["embedding", "label"]
    assert [f.name for f in spec.description.trainingInput] == ["features", "label"]


@pytest.mark.parametrize("layers, error, message", [
    (["softmax"], SurgeryError, "layer .softmax. \\(softmax\\) cannot be made updatable: Core ML can only train"),
    (["fullyconected0"], UsageError, "did you mean 'fullyconnected0'"),
    ([], UsageError, "no layers given"),
])
def test_refusals_name_the_layer(layers, error, message):
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    with pytest.raises(error, match=message):
        make_updatable(spec, layers)


def test_quantized_layer_asks_for_dequantize():
    spec = load_spec(SHARED_MODELS / "int8_segmentation.mlmodel")
    from mlsurgery.network import LayerGraph

    quantized = next(layer.name for layer in LayerGraph.trainable(spec).layers if layer.is_quantized)
    with pytest.raises(SurgeryError, match="--dequantize"):
        make_updatable(spec, [quantized], loss="mse")


def test_cross_entropy_on_a_non_softmax_blob_is_refused():
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    with pytest.raises(SurgeryError, match="'fullyconnected0' comes from 'fullyconnected0' \\(innerProduct\\)"):
        make_updatable(spec, ["fullyconnected0"], loss="cross-entropy", loss_input="fullyconnected0")


@pytest.mark.parametrize("settings", [
    dict(learning_rate=2.0), dict(batch=8, batch_values=(1, 2)), dict(batch=0), dict(momentum=1.5), dict(kind="rmsprop")])
def test_impossible_optimizer_settings_are_usage_errors(settings):
    with pytest.raises(UsageError):
        OptimizerSettings(**settings)


def test_a_softmax_over_classes_gets_cross_entropy_a_per_pixel_softmax_does_not():
    from mlsurgery.engine.proof import prove_with_engine
    from mlsurgery.ops.fix import fix
    from rules import converted_specs

    batched = converted_specs.classifier_head(axis=-1, rank_of_input=3)  # [1, 2, 4] → dense → softmaxND
    fix(batched, prove=prove_with_engine)
    make_updatable(batched, ["auto"])
    assert batched.neuralNetwork.updateParams.lossLayers[0].WhichOneof("LossLayerType") == (
        "categoricalCrossEntropyLossLayer")
    segmentation = load_spec(FIXTURES / "third_party" / "int8_segmentation.mlmodel")
    with pytest.raises(MLSurgeryError, match="mse loss"):
        make_updatable(segmentation, ["auto"])


def _dense_after_value_shaped_tile(builder_outputs):
    """x [2, 2] → tile by the values of a constant [1, 2] → [2, 4] → innerProduct 4→3 → y, an exact-rank network
    whose tile shape depends on values ``mlsurgery.shapes.nd`` does not read, with y's shape not declared."""
    import numpy as np
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    builder = NeuralNetworkBuilder([("x", datatypes.Array(2, 2))], builder_outputs,
                                   disable_rank5_shape_mapping=True)
    builder.add_load_constant_nd("reps", "reps", np.array([1, 2], np.float32), shape=(2,))
    builder.add_tile("tile", "x", "wide", reps=[1, 1])
    builder.spec.neuralNetwork.layers[-1].input.append("reps")  # TileLayerParams: a second input gives the reps
    builder.add_inner_product("dense", W=np.ones((3, 4), np.float32), b=None, input_channels=4, output_channels=3,
                              has_bias=False, input_name="wide", output_name="y")
    return builder.spec


def test_mse_target_shape_past_an_unpropagated_layer_is_measured_or_asked_for():
    from mlsurgery.engine.blob_shapes import measure_blob_shape

    spec = _dense_after_value_shaped_tile([("y", None)])
    with pytest.raises(UsageError, match="--target-shape"):
        make_updatable(spec, ["dense"])
    spec = _dense_after_value_shaped_tile([("y", None)])
    make_updatable(spec, ["dense"], measure=measure_blob_shape)
    (target,) = [f for f in spec.description.trainingInput if f.name == "y_true"]
    # innerProduct on [2, 4] gives [2, 3] (NeuralNetwork.proto: rank-2 input [B, C_in] → [B, C_out]).
    assert list(target.type.multiArrayType.shape) == [2, 3]
