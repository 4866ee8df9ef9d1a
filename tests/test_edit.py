"""mlsurgery.edit: each structural edit leaves a network Core ML accepts and keeps every blob reference in step."""

import pytest

from mlsurgery._proto import feature_types_pb2, model_pb2, nn_pb2
from mlsurgery.edit import cleanup, cut_after, remove_layer, rename_blob, replace_layer
from mlsurgery.errors import SurgeryError, UsageError
from mlsurgery.network import LayerGraph
from mlsurgery.validate import validate_spec


def _array(feature, size: int):
    feature.type.multiArrayType.shape.append(size)
    feature.type.multiArrayType.dataType = feature_types_pb2().ArrayFeatureType.FLOAT32


def _inner_product(network, name: str, source: str, result: str, inputs: int = 4, outputs: int = 4):
    layer = network.layers.add()
    layer.name = name
    layer.input.append(source)
    layer.output.append(result)
    params = layer.innerProduct
    params.inputChannels, params.outputChannels = inputs, outputs
    params.weights.floatValue.extend([0.5] * inputs * outputs)
    return layer


def _relu(network, name: str, source: str, result: str):
    layer = network.layers.add()
    layer.name = name
    layer.input.append(source)
    layer.output.append(result)
    layer.activation.ReLU.SetInParent()
    return layer


def _mlp():
    """x → fc1 → h → relu → r → fc2 → y, a network Core ML accepts."""
    spec = model_pb2().Model()
    spec.specificationVersion = 4
    _array(spec.description.input.add(), 4)
    spec.description.input[0].name = "x"
    _array(spec.description.output.add(), 4)
    spec.description.output[0].name = "y"
    network = spec.neuralNetwork
    _inner_product(network, "fc1", "x", "h")
    _relu(network, "relu", "h", "r")
    _inner_product(network, "fc2", "r", "y")
    return spec


def _reads(spec) -> dict[str, list[str]]:
    return {layer.name: list(layer.input) for layer in spec.neuralNetwork.layers}


def _assert_valid(spec):
    report = validate_spec(spec)
    assert report.valid, [f"{f.code}: {f.message}" for f in report.errors]


def test_replace_layer_keeps_name_and_blobs_when_the_new_layer_leaves_them_empty():
    spec = _mlp()
    sigmoid = nn_pb2().NeuralNetworkLayer()
    sigmoid.activation.sigmoid.SetInParent()
    changes = replace_layer(spec, "relu", sigmoid)
    layer = LayerGraph.trainable(spec).layer("relu")
    assert (layer.type_label, layer.inputs, layer.outputs, layer.index) == ("activation/sigmoid", ["h"], ["r"], 1)
    assert [str(change) for change in changes] == ["layer relu: replaced: activation/ReLU → activation/sigmoid"]
    _assert_valid(spec)


def test_replace_layer_refuses_a_name_another_layer_has():
    replacement = nn_pb2().NeuralNetworkLayer()
    replacement.name = "fc2"
    replacement.activation.sigmoid.SetInParent()
    with pytest.raises(UsageError, match="'fc2' is already taken"):
        replace_layer(_mlp(), "relu", replacement)


def test_remove_layer_reconnects_its_readers_to_its_input():
    spec = _mlp()
    changes = remove_layer(spec, "relu")
    assert _reads(spec) == {"fc1": ["x"], "fc2": ["h"]}
    assert "readers of 'r' now read 'h'" in str(list(changes)[0])
    _assert_valid(spec)


def test_removing_the_layer_that_writes_a_model_output_gives_the_output_name_to_its_input():
    spec = _mlp()
    _relu(spec.neuralNetwork, "last", "y", "z")
    spec.neuralNetwork.layers[2].output[0] = "y_pre"
    spec.neuralNetwork.layers[3].input[0] = "y_pre"
    spec.neuralNetwork.layers[3].output[0] = "y"
    remove_layer(spec, "last")
    assert [list(layer.output) for layer in spec.neuralNetwork.layers] == [["h"], ["r"], ["y"]]
    _assert_valid(spec)


def test_remove_layer_updates_the_loss_that_read_its_output():
    spec = _mlp()
    loss = spec.neuralNetwork.updateParams.lossLayers.add()
    loss.name = "loss"
    loss.meanSquaredErrorLossLayer.input = "r"
    loss.meanSquaredErrorLossLayer.target = "r_true"
    remove_layer(spec, "relu")
    assert loss.meanSquaredErrorLossLayer.input == "h"


@pytest.mark.parametrize(("build", "name", "error", "message"), [
    (lambda spec: None, "relux", UsageError, "did you mean 'relu'"),
    (lambda spec: spec.neuralNetwork.layers[1].input.append("x"), "relu", SurgeryError, "2 inputs"),
])
def test_remove_layer_refusals(build, name, error, message):
    spec = _mlp()
    build(spec)
    with pytest.raises(error, match=message):
        remove_layer(spec, name)
    assert len(spec.neuralNetwork.layers) == 3


def test_a_layer_between_two_model_features_is_not_removed():
    spec = model_pb2().Model()
    spec.specificationVersion = 4
    for features, name in ((spec.description.input, "x"), (spec.description.output, "y")):
        _array(features.add(), 4)
        features[0].name = name
    _relu(spec.neuralNetwork, "relu", "x", "y")
    with pytest.raises(SurgeryError, match="cannot pass a feature on without a layer"):
        remove_layer(spec, "relu")
    assert len(spec.neuralNetwork.layers) == 1


def test_rename_blob_renames_every_reference_and_a_model_feature():
    spec = _mlp()
    loss = spec.neuralNetwork.updateParams.lossLayers.add()
    loss.name = "loss"
    loss.meanSquaredErrorLossLayer.input = "y"
    loss.meanSquaredErrorLossLayer.target = "y_true"
    changes = rename_blob(spec, "y", "scores")
    assert spec.neuralNetwork.layers[2].output[0] == "scores" and spec.description.output[0].name == "scores"
    assert loss.meanSquaredErrorLossLayer.input == "scores"
    assert "a model feature" in str(list(changes)[0])
    rename_blob(spec, "h", "hidden")
    assert _reads(spec)["relu"] == ["hidden"]
    _assert_valid(spec)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("hh", "k", "no blob named 'hh'; did you mean 'h'"), ("h", "r", "'r' is already a blob or layer name"),
    ("h", "fc2", "'fc2' is already a blob or layer name")])
def test_rename_blob_refusals(old, new, message):
    with pytest.raises(UsageError, match=message):
        rename_blob(_mlp(), old, new)


def test_cut_after_keeps_what_the_blob_depends_on_and_makes_it_the_only_output():
    spec = _mlp()
    loss = spec.neuralNetwork.updateParams.lossLayers.add()
    loss.name = "loss"
    loss.meanSquaredErrorLossLayer.input = "y"
    feature_type = feature_types_pb2().FeatureType()
    feature_type.multiArrayType.shape.append(4)
    feature_type.multiArrayType.dataType = feature_types_pb2().ArrayFeatureType.FLOAT32
    changes = cut_after(spec, "r", feature_type)
    assert [layer.name for layer in spec.neuralNetwork.layers] == ["fc1", "relu"]
    assert [feature.name for feature in spec.description.output] == ["r"]
    assert not spec.neuralNetwork.updateParams.lossLayers
    assert [change.target for change in changes] == ["network", "outputs", "loss loss"]
    _assert_valid(spec)


def test_cut_after_needs_a_type_for_a_new_output_and_a_computed_blob():
    with pytest.raises(UsageError, match="give the type"):
        cut_after(_mlp(), "r")
    with pytest.raises(UsageError, match="is a model input"):
        cut_after(_mlp(), "x")


def test_cleanup_removes_exactly_the_layers_nothing_needs():
    spec = _mlp()
    _relu(spec.neuralNetwork, "dead_relu", "h", "dead1")
    _inner_product(spec.neuralNetwork, "dead_fc", "dead1", "dead2")
    changes = cleanup(spec)
    assert [layer.name for layer in spec.neuralNetwork.layers] == ["fc1", "relu", "fc2"]
    assert [change.target for change in changes] == ["layer dead_relu", "layer dead_fc"]
    assert len(cleanup(spec)) == 0
    _assert_valid(spec)


def test_cleanup_keeps_what_a_loss_or_a_loop_body_reads():
    spec = _mlp()
    _relu(spec.neuralNetwork, "for_loss", "h", "trained")
    loss = spec.neuralNetwork.updateParams.lossLayers.add()
    loss.meanSquaredErrorLossLayer.input = "trained"
    _relu(spec.neuralNetwork, "for_loop", "h", "counter")
    loop = spec.neuralNetwork.layers.add()
    loop.name = "loop"
    loop.loop.maxLoopIterations = 2
    _relu(loop.loop.bodyNetwork, "inside", "counter", "counter_out")
    _relu(spec.neuralNetwork, "dead", "h", "unused")
    cleanup(spec)
    assert [layer.name for layer in spec.neuralNetwork.layers] == ["fc1", "relu", "fc2", "for_loss", "for_loop",
                                                                   "loop"]
