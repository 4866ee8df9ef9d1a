"""split: a frozen backbone stage kept byte for byte and an fp32 updatable head, meeting at the blob's exact shape."""

import pytest

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery._proto import model_pb2
from mlsurgery.errors import ModelLoadError, SurgeryError, UsageError
from mlsurgery.network import LayerGraph, pipeline_stages
from mlsurgery.io import load_spec
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.ops.split import split_network
from mlsurgery.validate import validate_spec

DECODER = SHARED_MODELS / "fp16_lstm_decoder.mlmodel"
SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"


def _layer_bytes(layers):
    return [layer.SerializeToString(deterministic=True) for layer in layers]


def test_fp16_lstm_network_splits_into_frozen_fp16_backbone_and_fp32_updatable_head():
    original = load_spec(DECODER)
    spec = load_spec(DECODER)
    split_network(spec, "decoder_lstm_output")
    make_updatable(spec, ["auto"], loss_input="nextCharProbs")
    report = validate_spec(spec)
    assert report.valid and not report.findings, report.findings
    backbone, head = pipeline_stages(spec)
    assert not backbone.isUpdatable and head.isUpdatable
    # The backbone's layers (the fp16 LSTM) are the original bytes.
    assert _layer_bytes(backbone.neuralNetwork.layers) == _layer_bytes(original.neuralNetwork.layers[:1])
    assert LayerGraph.trainable(backbone).layers[0].storage == "fp16"
    # No fp16 weight is left in the last stage.
    assert all(layer.storage in ("fp32", "none") for layer in LayerGraph.trainable(head).layers)
    # The stages meet at the blob, declared alike on both sides with the size the head's innerProduct reads.
    dense = next(l for l in original.neuralNetwork.layers if l.name == "dense_2")
    assert backbone.description.output[0] == head.description.input[0]
    assert list(head.description.input[0].type.multiArrayType.shape) == [dense.innerProduct.inputChannels]
    # The LSTM's state outputs still come out of the pipeline, now from the backbone.
    assert {f.name for f in backbone.description.output} == {"decoder_lstm_output", "decoder_lstm_h_out",
                                                            "decoder_lstm_c_out"}
    assert [f.name for f in spec.description.output] == [f.name for f in original.description.output]


def test_split_at_a_feature_map_declares_channels_height_width_on_both_sides():
    spec = load_spec(SQUEEZENET)
    split_network(spec, "fire9/concat")
    make_updatable(spec, ["auto"])
    assert validate_spec(spec).valid
    backbone, head = pipeline_stages(spec)
    assert list(backbone.description.output[0].type.multiArrayType.shape) == [512, 13, 13]
    assert head.description.input[0] == backbone.description.output[0]
    assert head.WhichOneof("Type") == "neuralNetworkClassifier"
    assert list(head.neuralNetworkClassifier.stringClassLabels.vector) == \
        list(load_spec(SQUEEZENET).neuralNetworkClassifier.stringClassLabels.vector)


def test_network_inside_a_pipeline_is_split_in_place():
    inner = load_spec(SQUEEZENET)
    spec = model_pb2().Model()
    spec.specificationVersion = inner.specificationVersion
    spec.description.CopyFrom(inner.description)
    spec.pipelineClassifier.pipeline.models.add().CopyFrom(inner)
    spec.pipelineClassifier.pipeline.names.append("squeezenet")
    split_network(spec, "pool10")
    make_updatable(spec, ["auto"])
    assert validate_spec(spec).valid
    assert list(spec.pipelineClassifier.pipeline.names) == ["frozenBackbone", "trainableHead"]
    assert [s.WhichOneof("Type") for s in pipeline_stages(spec)] == ["neuralNetwork", "neuralNetworkClassifier"]


def test_refusals():
    with pytest.raises(UsageError, match="no blob named"):
        split_network(load_spec(SQUEEZENET), "pool100")
    with pytest.raises(SurgeryError, match="'fire9/expand3x3' after the cut reads 'fire9/relu_squeeze1x1'"):
        split_network(load_spec(SQUEEZENET), "fire9/relu_expand1x1")
    with pytest.raises(UsageError, match="model input"):
        split_network(load_spec(SQUEEZENET), "image")
    glm = pipeline_stages(load_spec(SHARED_MODELS / "createml_flower_classifier.mlmodel"))[1]
    with pytest.raises(ModelLoadError, match="not a neural network"):
        split_network(glm, "x")


def test_split_changes_no_prediction():
    from mlsurgery.engine import compare_predictions

    spec = load_spec(SQUEEZENET)
    split_network(spec, "fire9/concat")  # a [512, 13, 13] feature map between the stages
    comparison = compare_predictions(load_spec(SQUEEZENET), spec, count=1)
    assert comparison.agree, comparison.detail


def test_nd_network_is_split_at_the_measured_shape(converted_classifier):
    from mlsurgery.engine import compare_predictions

    spec = type(converted_classifier)()
    spec.CopyFrom(converted_classifier)
    split_network(spec, "18")  # the pooled [1, 8, 1, 1] blob of the converted network
    assert validate_spec(spec).valid
    backbone, head = pipeline_stages(spec)
    assert list(backbone.description.output[0].type.multiArrayType.shape) == [1, 8, 1, 1]
    assert head.description.input[0] == backbone.description.output[0]
    comparison = compare_predictions(converted_classifier, spec)
    assert comparison.agree, comparison.detail
