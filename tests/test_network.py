"""The layer graph finds the network wherever it sits and answers what Core ML would about each layer."""

import pytest

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.errors import ModelLoadError, UsageError
from mlsurgery.network import LayerGraph, find_networks, trainable_network
from mlsurgery.io import load_spec


def test_squeezenet_graph_links_producers_and_consumers():
    graph = LayerGraph.trainable(load_spec(FIXTURES / "turi_squeezenet.mlmodel"))
    concat = graph.layer("fire9/concat")
    assert concat.kind == "concat"
    assert [p.name for p in concat.producers] == ["fire9/relu_expand1x1", "fire9/relu_expand3x3"]
    assert not concat.passes_gradients
    assert graph.blob_producer["labelProbability"].name == "softmax"
    assert graph.probabilities_softmax().name == "softmax"
    fc = graph.layer("fullyconnected0")
    assert (fc.kind, fc.can_be_updatable, fc.parameter_count, fc.storage) == ("innerProduct", True, 3003, "fp32")


def test_unknown_layer_suggests_close_names():
    graph = LayerGraph.trainable(load_spec(FIXTURES / "turi_squeezenet.mlmodel"))
    with pytest.raises(UsageError, match="did you mean 'fullyconnected0'"):
        graph.layer("fullyconected0")


def test_pipeline_network_is_the_last_stage():
    spec = load_spec(FIXTURES / "pipeline.mlmodel")
    locations = find_networks(spec)
    assert [(loc.kind, loc.stage_path, loc.where) for loc in locations] == [
        ("neuralNetwork", (0,), "pipeline stage 1"), ("neuralNetworkClassifier", (1,), "pipeline stage 2")]
    assert trainable_network(spec).stage_path == (1,)


def test_non_network_model_type_is_named(tmp_path):
    from mlsurgery._proto import model_pb2

    spec = model_pb2().Model()
    spec.specificationVersion = 1
    spec.treeEnsembleRegressor.SetInParent()
    with pytest.raises(ModelLoadError, match="'treeEnsembleRegressor' is not a neural network"):
        trainable_network(spec)


def test_weight_storage_of_third_party_models():
    fp16 = LayerGraph.trainable(load_spec(SHARED_MODELS / "fp16_lstm_decoder.mlmodel"))
    assert "fp16" in {layer.storage for layer in fp16.layers}
    int8 = LayerGraph.trainable(load_spec(SHARED_MODELS / "int8_segmentation.mlmodel"))
    quantized = [layer for layer in int8.layers if layer.is_quantized]
    assert quantized and all(not layer.can_be_updatable for layer in quantized)
    assert all(layer.storage == "8-bit quantized" for layer in quantized)


def test_weight_counts_match_declared_shapes():
    graph = LayerGraph.trainable(load_spec(FIXTURES / "turi_squeezenet.mlmodel"))
    conv10 = graph.layer("conv10").proto.convolution
    assert graph.layer("conv10").parameter_count == (
        conv10.outputChannels * conv10.kernelChannels * conv10.kernelSize[0] * conv10.kernelSize[1]
        + conv10.outputChannels)


def test_weight_walk_over_a_custom_layer_skips_its_scalar_map_and_strings():
    # CustomLayerParams holds a className string, a parameters map of scalar values and repeated WeightParams:
    # only the two WeightParams are weights (16 scales and 16 shifts, as build_fixtures.py writes them).
    graph = LayerGraph.trainable(load_spec(FIXTURES / "zoo" / "custom_layer.mlmodel"))
    custom = graph.layer("scale_shift")
    assert custom.kind == "custom"
    assert [path for path, _ in custom.weights] == ["weights[0]", "weights[1]"]
    assert (custom.parameter_count, custom.storage) == (32, "fp32")
    assert not custom.can_be_updatable and not custom.passes_gradients


def test_message_fields_lists_map_values_that_are_messages_and_nothing_scalar():
    from mlsurgery._proto import model_pb2, nn_pb2
    from mlsurgery.network import message_fields, weight_params

    custom = nn_pb2().CustomLayerParams(className="X", description="d")
    custom.parameters["alpha"].doubleValue = 0.5
    custom.weights.add().floatValue.extend([1.0, 2.0])
    assert [path for path, _ in message_fields(custom)] == ["weights[0]", "parameters['alpha']"]
    # A map whose values are messages that hold weights: a pipeline's metadata has none, but a model's
    # userDefined map of strings must be skipped while the nested message it sits in is walked.
    model = model_pb2().Model()
    model.description.metadata.userDefined["k"] = "v"
    assert weight_params(model) == []
