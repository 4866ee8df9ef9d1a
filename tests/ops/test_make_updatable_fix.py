"""make_updatable --layers auto --fix on the networks users hold: deprocess tails, fp16 and int8 exports,
per-pixel softmax, several outputs. Each result must be accepted by the validator with the interface unchanged."""

import copy

import numpy as np
import pytest
from coremltools.models.neural_network.quantization_utils import _quantize_spec_weights

from mlsurgery.contract import training_contract
from mlsurgery.engine.proof import prove_with_engine
from mlsurgery.errors import MLSurgeryError
from mlsurgery.network import LayerGraph
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.validate import validate_spec
from ops.rewrites.cases import MLS505
from ops.rewrites.cases.common import C, front


def _style_transfer():
    spec, _ = MLS505.before_per_channel_scale_with_bias()  # x → conv → tanh → scale (deprocess) → out
    spec.specificationVersion = 4
    return spec


def _updatable(spec):
    return [layer.name for layer in LayerGraph.trainable(spec).layers if layer.is_updatable]


def _fix(spec, **options):
    return make_updatable(spec, ["auto"], fix=True, prove=prove_with_engine, **options)


def test_deprocess_tail_trains_the_convolution_and_keeps_the_inserted_one_frozen():
    spec = _style_transfer()
    description = copy.deepcopy(spec.description)
    changes = _fix(spec)
    assert _updatable(spec) == ["conv"]
    assert LayerGraph.trainable(spec).layer("deprocess").kind == "convolution"
    assert validate_spec(spec).valid
    assert spec.description.input == description.input and spec.description.output == description.output
    chosen = next(change.detail for change in changes if change.target == "layers")
    assert "'conv'" in chosen and "passed over 'deprocess'" in chosen


def test_without_fix_the_deprocess_tail_is_one_line_naming_the_scale_and_the_rewrite():
    with pytest.raises(MLSurgeryError) as refused:
        make_updatable(_style_transfer(), ["auto"])
    message = str(refused.value)
    assert "\n" not in message and "'deprocess'" in message and "MLS505" in message


def test_fp16_export_is_widened_by_fix_saying_so_and_the_new_size():
    spec = _quantize_spec_weights(_style_transfer(), 16, "_linear_quantization")
    changes = _fix(spec)
    assert validate_spec(spec).valid
    assert all(layer.storage in ("fp32", "none") for layer in LayerGraph.trainable(spec).layers)
    details = " ".join(change.detail for change in changes)
    assert "fp16" in details and "MiB" in details


def test_int8_export_gets_the_chosen_layer_dequantized():
    spec = _quantize_spec_weights(_style_transfer(), 8, "_linear_quantization")
    _fix(spec)
    assert _updatable(spec) == ["conv"]
    assert LayerGraph.trainable(spec).layer("conv").storage == "fp32"
    assert validate_spec(spec).valid


def _segmentation():
    builder, _ = front((C, 4, 6))
    builder.add_softmax("softmax", "y", "out")
    builder.spec.specificationVersion = 4
    return builder.spec


def test_per_pixel_softmax_without_fix_says_what_the_losses_can_express():
    with pytest.raises(MLSurgeryError) as refused:
        make_updatable(_segmentation(), ["auto"])
    assert "one class index per example" in str(refused.value) and "--loss-input y" in str(refused.value)


def test_per_pixel_softmax_with_fix_trains_the_logits_against_a_one_hot_target_the_contract_documents():
    spec = _segmentation()
    _fix(spec)
    loss = spec.neuralNetwork.updateParams.lossLayers[0]
    assert loss.WhichOneof("LossLayerType") == "meanSquaredErrorLossLayer"
    assert loss.meanSquaredErrorLossLayer.input == "y"
    (target,) = [f for f in training_contract(spec)["training_inputs"] if f["role"] == "target"]
    assert target["name"] == "y_true" and "one-hot" in target["description"]
    assert list(spec.description.trainingInput[-1].type.multiArrayType.shape) == [C, 4, 6]
    assert validate_spec(spec).valid


def test_several_outputs_stay_a_one_line_choice_listing_them():
    builder, _ = front((C, 4, 6))
    builder.add_activation("relu", "RELU", "y", "out")
    builder.add_activation("sig", "SIGMOID", "y", "other")
    output = builder.spec.description.output.add()
    output.CopyFrom(builder.spec.description.output[0])
    output.name = "other"
    builder.spec.specificationVersion = 4
    with pytest.raises(MLSurgeryError) as refused:
        _fix(builder.spec)
    assert "\n" not in str(refused.value) and "out" in str(refused.value) and "other" in str(refused.value)


def test_the_inserted_convolution_is_picked_only_when_nothing_else_can_train():
    builder, _ = front((C, 4, 6))
    builder.add_unary("abs", "y", "a", mode="abs")  # Core ML does not backpropagate through unary
    builder.add_scale("deprocess", np.full(C, 2.0), None, False, "a", "out", shape_scale=[C])
    builder.spec.specificationVersion = 4
    _fix(builder.spec)
    assert _updatable(builder.spec) == ["deprocess"]
    assert validate_spec(builder.spec).valid


def test_quantized_chosen_layer_and_quantized_deprocess_are_expanded():
    spec = _quantize_spec_weights(_style_transfer(), 8, "_linear_quantization")
    changes = _fix(spec)
    graph = LayerGraph.trainable(spec)
    assert graph.layer("conv").storage == "fp32" and graph.layer("deprocess").storage == "fp32"
    assert any("quantized" in change.detail for change in changes)


def test_keep_precision_splits_a_frozen_fp16_backbone_from_an_fp32_head():
    from mlsurgery.network import pipeline_stages

    builder, _ = front((C, 4, 6))
    builder.add_activation("relu", "RELU", "y", "r")
    builder.add_convolution("head", C, C, 1, 1, 1, 1, "valid", groups=1, W=np.ones((1, 1, C, C)), b=None,
                            has_bias=False, input_name="r", output_name="h")
    builder.add_activation("tanh", "TANH", "h", "t")
    builder.add_scale("deprocess", np.full(C, 127.5), np.full(C, 127.5), True, "t", "out", shape_scale=[C],
                      shape_bias=[C])
    spec = _quantize_spec_weights(builder.spec, 16, "_linear_quantization")
    spec.specificationVersion = 4
    original = copy.deepcopy(spec)
    make_updatable(spec, ["auto"], fix=True, prove=prove_with_engine, keep_precision=True)
    backbone, head = pipeline_stages(spec)
    assert [layer.name for layer in backbone.neuralNetwork.layers] == ["conv", "relu"]
    assert backbone.neuralNetwork.layers[0].convolution.weights.float16Value  # left as it was
    assert _updatable(spec) == ["head"]
    assert validate_spec(spec).valid
    assert spec.description.input == original.description.input
    assert [f.name for f in spec.description.output] == ["out"]
