"""mlsurgery.coreml: each Core ML fact against Core ML's own definitions (its .proto files and validator)."""

import numpy as np
import pytest

from mlsurgery._proto import model_pb2, nn_pb2
from mlsurgery.backprop import LossNode, trainable_frontier
from mlsurgery.coreml import (
    NETWORK_KINDS,
    PIPELINE_KINDS,
    UPDATABLE_LAYER_KINDS,
    LossKind,
    accepts_updatable,
    c_div,
    int32,
    int64,
    uint64_product,
)
from mlsurgery.errors import SurgeryError, UsageError
from mlsurgery.graph import LayerGraph
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.validate import validate_spec
from rules.cases import MLS202


def _cases(message, oneof: str) -> set[str]:
    return {field.name for field in message.DESCRIPTOR.oneofs_by_name[oneof].fields}


def _quantized_bias_network(has_bias: bool):
    """An updatable innerProduct → softmax → cross-entropy network whose bias carries quantization parameters."""
    model = MLS202.bad_quantized_bias()
    model.neuralNetwork.layers[0].innerProduct.hasBias = has_bias
    return model


def test_quantized_bias_without_has_bias_may_be_updatable_as_core_ml_says():
    # Core ML reads the bias only when hasBias is set (UpdatableNeuralNetworkValidator.cpp,
    # validateWeightParamsUpdatable), so this layer is accepted; every part of mlsurgery must agree.
    spec = _quantized_bias_network(has_bias=False)
    layer = LayerGraph.trainable(spec).layer("inner_layer")
    assert accepts_updatable(layer.proto) and layer.can_be_updatable
    assert validate_spec(spec).valid
    assert [found.name for found in trainable_frontier(spec, "softmax_out")] == ["inner_layer"]
    make_updatable(spec, ["inner_layer"], loss="cross-entropy", loss_input="softmax_out")
    assert spec.neuralNetwork.layers[0].isUpdatable


def test_quantized_bias_with_has_bias_is_refused_everywhere():
    spec = _quantized_bias_network(has_bias=True)
    layer = LayerGraph.trainable(spec).layer("inner_layer")
    assert not accepts_updatable(layer.proto) and not layer.can_be_updatable
    assert validate_spec(spec).coreml_first.code == "MLS202"
    assert trainable_frontier(spec, "softmax_out") == []
    with pytest.raises(SurgeryError, match="quantized"):
        make_updatable(spec, ["inner_layer"], loss="cross-entropy", loss_input="softmax_out")


def test_only_the_three_trainable_kinds_are_accepted():
    layer = nn_pb2().NeuralNetworkLayer()
    for kind in ("batchnorm", "batchedMatmul", "embedding"):
        getattr(layer, kind).SetInParent()
        assert not accepts_updatable(layer), kind
    layer.uniDirectionalLSTM.SetInParent()
    assert accepts_updatable(layer)
    assert set(UPDATABLE_LAYER_KINDS) <= _cases(nn_pb2().NeuralNetworkLayer, "layer")


def test_model_kinds_are_cases_of_the_model_type_oneof():
    assert set(NETWORK_KINDS) | set(PIPELINE_KINDS) <= _cases(model_pb2().Model, "Type")


def test_loss_kinds_name_the_loss_layer_oneof_cases():
    assert {kind.field for kind in LossKind} == _cases(nn_pb2().LossLayer, "LossLayerType")
    assert all(LossKind.from_field(kind.field) is kind for kind in LossKind)


@pytest.mark.parametrize(("text", "kind"), [
    ("cross-entropy", LossKind.CROSS_ENTROPY), ("cross_entropy", LossKind.CROSS_ENTROPY),
    ("categoricalCrossEntropyLossLayer", LossKind.CROSS_ENTROPY), ("mse", LossKind.MSE),
    ("meanSquaredErrorLossLayer", LossKind.MSE)])
def test_the_cli_spelling_of_a_loss_is_understood_everywhere(text, kind):
    assert LossKind.parse(text) is kind
    assert LossNode.proposed("blob", text).kind is kind


def test_unknown_loss_names_the_choices():
    with pytest.raises(UsageError, match="unknown loss 'hinge'; choose one of cross-entropy, mse"):
        LossKind.parse("hinge")


@pytest.mark.parametrize("value", [0, 1, -1, 2**31 - 1, 2**31, 2**32 + 5, -(2**31) - 1, 3 * 2**40 + 7])
def test_c_integer_casts_match_numpy(value):
    assert int32(value) == int(np.array(value % 2**64, dtype=np.uint64).astype(np.int32))
    assert int64(value) == int(np.array(value % 2**64, dtype=np.uint64).astype(np.int64))


@pytest.mark.parametrize(("a", "b"), [(7, 2), (-7, 2), (7, -2), (-7, -2), (0, 5), (6, 3)])
def test_c_division_truncates_toward_zero(a, b):
    assert c_div(a, b) == int(np.trunc(a / b))


def test_unsigned_product_wraps_at_64_bits():
    assert uint64_product(2**40, 2**30) == int((np.array([2**40], np.uint64) * np.uint64(2**30))[0])
