"""widen appends classes without disturbing the old ones, and keeps the rest of the network consistent."""

import numpy as np
import pytest
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.errors import SurgeryError, UsageError
from mlsurgery.network import LayerGraph
from mlsurgery.io import load_spec, serialize_spec
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.ops.widen import PRESERVE_BIAS, widen_classifier
from mlsurgery.validate import validate_spec

SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"


def _values(weights) -> np.ndarray:
    if weights.float16Value:
        return np.frombuffer(weights.float16Value, "<f2").astype(np.float32)
    return np.array(weights.floatValue, dtype=np.float32)


def _params(spec, name):
    return LayerGraph.trainable(spec).layer(name).params


def _labels(spec):
    network = LayerGraph.trainable(spec).network
    return list(getattr(network, network.WhichOneof("ClassLabels")).vector)


def _softmax32(logits: np.ndarray) -> np.ndarray:
    """float32 softmax as Core ML computes it: exp(z - max z) / Σ exp(z - max z), per row."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True), dtype=np.float32)
    return shifted / shifted.sum(axis=1, keepdims=True, dtype=np.float32)


def _head(params, inputs: np.ndarray) -> np.ndarray:
    """innerProduct + softmax in float32, the classifier head.

    Each logit is its own reduction, so it does not depend on how many rows the layer has (a BLAS matrix
    product may block, and so round, differently when the output count changes).
    """
    weights = _values(params.weights).reshape(params.outputChannels, params.inputChannels)
    logits = (inputs[:, None, :] * weights[None, :, :]).sum(axis=2, dtype=np.float32)
    return _softmax32(logits + _values(params.bias))


# --- the SqueezeNet fixture -----------------------------------------------------------------------------------

def test_squeezenet_zeros_keeps_old_rows_and_adds_zero_rows_and_labels():
    spec = load_spec(SQUEEZENET)
    old = _params(spec, "fullyconnected0")
    old_weights, old_bias = _values(old.weights), _values(old.bias)
    widen_classifier(spec, "fullyconnected0", 10)
    params = _params(spec, "fullyconnected0")
    weights, bias = _values(params.weights), _values(params.bias)
    assert params.outputChannels == 10 and weights.size == 10 * 1000
    assert weights[:3000].tobytes() == old_weights.tobytes() and bias[:3].tobytes() == old_bias.tobytes()
    assert not weights[3000:].any() and not bias[3:].any()
    assert _labels(spec) == ["rock", "paper", "scissors"] + [f"user{i}" for i in range(7)]
    assert validate_spec(spec).valid


def test_squeezenet_kaiming_rows_are_bounded_and_seeded():
    def widened(seed):
        spec = load_spec(SQUEEZENET)
        widen_classifier(spec, "fullyconnected0", 10, init="kaiming", rng=np.random.default_rng(seed))
        return spec

    spec = widened(11)
    params = _params(spec, "fullyconnected0")
    new_weights, new_bias = _values(params.weights)[3000:], _values(params.bias)[3:]
    assert np.abs(new_weights).max() <= np.float32(np.sqrt(6 / 1000)) and new_weights.std() > 0
    assert np.abs(new_bias).max() <= np.float32(1 / np.sqrt(1000))
    assert serialize_spec(widened(11)) == serialize_spec(spec)
    assert serialize_spec(widened(12)) != serialize_spec(spec)


def test_preserve_keeps_old_class_probabilities_bit_identical():
    spec = load_spec(SQUEEZENET)
    original = _params(spec, "fullyconnected0")
    rng = np.random.default_rng(0)
    # Post-ReLU, globally pooled features like the head sees, at several scales, plus all-zero input.
    inputs = np.vstack([np.abs(rng.standard_normal((300, 1000), dtype=np.float32)) * scale
                        for scale in (0.01, 1.0, 30.0)] + [np.zeros((1, 1000), np.float32)])
    before = _head(original, inputs)
    widen_classifier(spec, "fullyconnected0", 10, init="preserve")
    after = _head(_params(spec, "fullyconnected0"), inputs)
    assert after[:, :3].tobytes() == before.tobytes()
    assert not after[:, 3:].any()
    assert (_values(_params(spec, "fullyconnected0").bias)[3:] == PRESERVE_BIAS).all()


def test_zero_init_changes_old_probabilities_which_is_why_preserve_exists():
    spec = load_spec(SQUEEZENET)
    inputs = np.abs(np.random.default_rng(1).standard_normal((50, 1000), dtype=np.float32))
    before = _head(_params(spec, "fullyconnected0"), inputs)
    widen_classifier(spec, "fullyconnected0", 10, init="zeros")
    after = _head(_params(spec, "fullyconnected0"), inputs)
    assert not np.allclose(after[:, :3], before, rtol=1e-3)


def test_preserve_adds_a_bias_when_the_layer_has_none():
    builder = NeuralNetworkBuilder([("x", datatypes.Array(4))], [("p", None)], mode="classifier")
    builder.add_inner_product("fc", W=np.ones((2, 4)), b=None, input_channels=4, output_channels=2, has_bias=False,
                              input_name="x", output_name="logits")
    builder.add_softmax("softmax", "logits", "p")
    builder.set_class_labels(["a", "b"], predicted_feature_name="label", prediction_blob="p")
    spec = builder.spec
    widen_classifier(spec, "fc", 3, init="preserve")
    params = _params(spec, "fc")
    assert params.hasBias and _values(params.bias).tolist() == [0.0, 0.0, PRESERVE_BIAS]
    assert validate_spec(spec).valid


def test_widened_then_made_updatable_is_valid():
    spec = load_spec(SQUEEZENET)
    widen_classifier(spec, "fullyconnected0", 10, init="kaiming", rng=np.random.default_rng(0))
    make_updatable(spec, ["fullyconnected0"])
    assert validate_spec(spec).valid


# --- labels -------------------------------------------------------------------------------------------------

def test_explicit_labels_name_the_new_classes():
    spec = load_spec(SQUEEZENET)
    widen_classifier(spec, "fullyconnected0", 5, labels=["lizard", "spock"])
    assert _labels(spec) == ["rock", "paper", "scissors", "lizard", "spock"]


def test_prefixed_labels_continue_the_numbering_of_an_earlier_widening():
    spec = load_spec(SQUEEZENET)
    widen_classifier(spec, "fullyconnected0", 5, label_prefix="new")
    widen_classifier(spec, "fullyconnected0", 7, label_prefix="new")
    assert _labels(spec)[3:] == ["new0", "new1", "new2", "new3"]


def test_int64_labels_continue_the_sequence():
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    widen_classifier(spec, "dense_3", 12)
    assert _labels(spec) == list(range(12))
    widen_classifier(spec, "dense_3", 14, labels=["40", "41"])
    assert _labels(spec)[12:] == [40, 41]
    assert validate_spec(spec).valid


@pytest.mark.parametrize("path, kwargs, error, message", [
    (SQUEEZENET, {"labels": ["a", "b"]}, UsageError, "2 label\\(s\\) given but widening adds 7 classes"),
    (SQUEEZENET, {"labels": ["rock", "a", "b", "c", "d", "e", "f"]}, UsageError, "duplicate class label\\(s\\) 'rock'"),
    (SQUEEZENET, {"labels": ["a", "a", "b", "c", "d", "e", "f"]}, UsageError, "duplicate class label\\(s\\) 'a'"),
    (FIXTURES / "mnist_mlp.mlmodel", {"label_prefix": "user"}, UsageError, "int64; --label-prefix"),
    (FIXTURES / "mnist_mlp.mlmodel", {"labels": ["x", "y"]}, UsageError, "give whole numbers"),
    (SQUEEZENET, {"labels": list("abcdefg"), "label_prefix": "new"}, UsageError, "not both"),
])
def test_label_errors_leave_the_spec_untouched(path, kwargs, error, message):
    spec = load_spec(path)
    before = serialize_spec(spec)
    layer = "fullyconnected0" if path == SQUEEZENET else "dense_3"
    with pytest.raises(error, match=message):
        widen_classifier(spec, layer, 10 if path == SQUEEZENET else 12, **kwargs)
    assert serialize_spec(spec) == before


# --- refusals ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer, classes, error, message", [
    ("fullyconnected0", 2, SurgeryError, "has 3 outputs; shrinking to 2 is refused"),
    ("fullyconnected0", 3, UsageError, "already has 3 outputs"),
    ("pool10", 5, SurgeryError, "'pool10' is a pooling layer"),
    ("fire9/expand1x1", 300, SurgeryError, "layer 'fire9/concat' \\(concat\\) reads the widened blob"),
])
def test_refusals_name_the_layer_and_change_nothing(layer, classes, error, message):
    spec = load_spec(SQUEEZENET)
    before = serialize_spec(spec)
    with pytest.raises(error, match=message):
        widen_classifier(spec, layer, classes)
    assert serialize_spec(spec) == before


def test_unadaptable_reader_is_named():
    builder = NeuralNetworkBuilder([("x", datatypes.Array(4)), ("other", datatypes.Array(2))], [("y", None)])
    builder.add_inner_product("fc", W=np.ones((2, 4)), b=np.zeros(2), input_channels=4, output_channels=2,
                              has_bias=True, input_name="x", output_name="h")
    builder.add_elementwise("sum", ["h", "other"], "y", mode="ADD")
    with pytest.raises(SurgeryError, match="layer 'sum' \\(add\\) reads the widened blob 'h'.*several inputs"):
        widen_classifier(builder.spec, "fc", 3)


def test_quantized_and_grouped_layers_are_refused():
    segmentation = load_spec(SHARED_MODELS / "int8_segmentation.mlmodel")
    with pytest.raises(SurgeryError, match="'conv1' stores 8-bit quantized weights"):
        widen_classifier(segmentation, "conv1", 32)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(4, 2, 2))], [("y", None)])
    builder.add_convolution("grouped", kernel_channels=2, output_channels=4, height=1, width=1, stride_height=1,
                            stride_width=1, border_mode="valid", groups=2, W=np.ones((1, 1, 2, 4)), b=None,
                            has_bias=False, input_name="x", output_name="y")
    with pytest.raises(SurgeryError, match="'grouped' is a grouped convolution"):
        widen_classifier(builder.spec, "grouped", 6)


# --- convolution classifiers and adapted readers -------------------------------------------------------------

def _conv_classifier():
    """A 1×1-convolution classifier: conv (8 → 3 channels) → global average pool → flatten → softmax."""
    builder = NeuralNetworkBuilder([("x", datatypes.Array(8, 4, 4))], [("p", None)], mode="classifier")
    weights = np.random.default_rng(3).standard_normal((1, 1, 8, 3))
    builder.add_convolution("classifier", kernel_channels=8, output_channels=3, height=1, width=1,
                            stride_height=1, stride_width=1, border_mode="valid", groups=1, W=weights,
                            b=np.arange(3.0), has_bias=True, input_name="x", output_name="logits")
    builder.add_pooling("pool", height=4, width=4, stride_height=1, stride_width=1, layer_type="AVERAGE",
                        padding_type="VALID", input_name="logits", output_name="pooled", is_global=True)
    builder.add_flatten("flatten", mode=0, input_name="pooled", output_name="flat")
    builder.add_softmax("softmax", "flat", "p")
    builder.set_class_labels(["a", "b", "c"], predicted_feature_name="label", prediction_blob="p")
    return builder.spec


def test_convolution_classifier_appends_output_channel_blocks():
    spec = _conv_classifier()
    old = _values(_params(spec, "classifier").weights)
    widen_classifier(spec, "classifier", 5, init="kaiming", rng=np.random.default_rng(0))
    params = _params(spec, "classifier")
    weights = _values(params.weights).reshape(5, 8, 1, 1)  # Core ML layout [out, kernelChannels, kh, kw]
    assert weights[:3].tobytes() == old.tobytes()
    assert np.abs(weights[3:]).max() <= np.float32(np.sqrt(6 / 8))
    assert params.outputChannels == 5 and _labels(spec) == ["a", "b", "c", "user0", "user1"]
    assert validate_spec(spec).valid


def test_hidden_widening_adapts_batchnorm_and_the_next_layer_exactly():
    spec = load_spec(SHARED_MODELS / "simple_mnist_batchnorm.mlmodel")
    x = np.random.default_rng(2).random((20, 784), dtype=np.float32)

    def hidden(spec):
        """dense_4 → batchnorm → ReLU → dense_5, in NumPy."""
        dense_4, norm, dense_5 = (_params(spec, name) for name in ("dense_4", "batchnormalization_3", "dense_5"))
        h = x @ _values(dense_4.weights).reshape(dense_4.outputChannels, 784).T + _values(dense_4.bias)
        h = (h - _values(norm.mean)) / np.sqrt(_values(norm.variance) + norm.epsilon)
        h = np.maximum(h * _values(norm.gamma) + _values(norm.beta), 0)
        return h @ _values(dense_5.weights).reshape(128, dense_5.inputChannels).T + _values(dense_5.bias)

    before = hidden(spec)
    changes = widen_classifier(spec, "dense_4", 300, init="kaiming", rng=np.random.default_rng(0))
    assert [change.target for change in changes][-2:] == ["layer batchnormalization_3", "layer dense_5"]
    assert _params(spec, "batchnormalization_3").channels == 300 and _params(spec, "dense_5").inputChannels == 300
    np.testing.assert_allclose(hidden(spec), before, rtol=1e-5, atol=1e-5)
    assert validate_spec(spec).valid


def _flatten_into_dense(order: int):
    """conv 1×1 (2 → 3 channels, 2×2 map) → flatten(order) → innerProduct 12 → 4."""
    builder = NeuralNetworkBuilder([("x", datatypes.Array(2, 2, 2))], [("y", None)])
    builder.add_convolution("conv", kernel_channels=2, output_channels=3, height=1, width=1, stride_height=1,
                            stride_width=1, border_mode="valid", groups=1, W=np.ones((1, 1, 2, 3)), b=None,
                            has_bias=False, input_name="x", output_name="maps")
    builder.add_flatten("flatten", mode=order, input_name="maps", output_name="flat")
    dense = np.random.default_rng(order).standard_normal((4, 12))
    builder.add_inner_product("dense", W=dense, b=np.zeros(4), input_channels=12, output_channels=4, has_bias=True,
                              input_name="flat", output_name="y")
    return builder.spec


@pytest.mark.parametrize("order", [0, 1], ids=["CHANNEL_FIRST", "CHANNEL_LAST"])
def test_new_channels_after_flatten_meet_zero_columns(order):
    spec = _flatten_into_dense(order)
    dense = _params(spec, "dense")
    maps = np.random.default_rng(9).standard_normal((5, 3, 2, 2)).astype(np.float32)  # old conv output C×H×W

    def flatten(maps):  # Core ML's flatten orders: C-major, or channels fastest (H, W, C)
        return maps.reshape(len(maps), -1) if order == 0 else maps.transpose(0, 2, 3, 1).reshape(len(maps), -1)

    before = flatten(maps) @ _values(dense.weights).reshape(4, 12).T
    widen_classifier(spec, "conv", 5, init="kaiming", rng=np.random.default_rng(0))
    new_maps = np.concatenate([maps, np.random.default_rng(8).standard_normal((5, 2, 2, 2))], axis=1)
    dense = _params(spec, "dense")
    assert dense.inputChannels == 20
    after = flatten(new_maps.astype(np.float32)) @ _values(dense.weights).reshape(4, 20).T
    np.testing.assert_allclose(after, before, rtol=1e-6)


def test_concat_last_input_feeds_the_next_convolution_zero_weights():
    spec = load_spec(SQUEEZENET)
    old = _values(_params(spec, "conv10").weights).reshape(1000, 512)
    widen_classifier(spec, "fire9/expand3x3", 300)
    conv10 = _params(spec, "conv10")
    weights = _values(conv10.weights).reshape(1000, 556)
    assert conv10.kernelChannels == 556
    assert weights[:, :512].tobytes() == old.tobytes() and not weights[:, 512:].any()
    assert validate_spec(spec).valid


def test_third_party_conv_widening_through_channel_last_flatten():
    spec = load_spec(SHARED_MODELS / "quickdraw_classifier.mlmodel")
    dense = _params(spec, "dense_1")
    old = _values(dense.weights).reshape(512, 16, 64)  # CHANNEL_LAST: 4×4 positions × 64 channels
    widen_classifier(spec, "conv2d_2", 70)
    weights = _values(_params(spec, "dense_1").weights).reshape(512, 16, 70)
    assert weights[:, :, :64].tobytes() == old.tobytes() and not weights[:, :, 64:].any()
    assert validate_spec(spec).valid


def test_third_party_classifier_widening_keeps_rows_and_labels():
    spec = load_spec(SHARED_MODELS / "quickdraw_classifier.mlmodel")
    old_labels, old = _labels(spec), _values(_params(spec, "dense_3").weights)
    widen_classifier(spec, "dense_3", 20, init="preserve")
    assert _values(_params(spec, "dense_3").weights)[:old.size].tobytes() == old.tobytes()
    assert _labels(spec) == old_labels + [f"user{i}" for i in range(5)]
    make_updatable(spec, ["dense_3"])
    assert validate_spec(spec).valid


def test_fp16_layer_widens_in_fp16_and_its_output_shape_follows():
    spec = load_spec(SHARED_MODELS / "fp16_lstm_decoder.mlmodel")
    old = _params(spec, "dense_2").weights.float16Value
    changes = widen_classifier(spec, "dense_2", 90)
    params = _params(spec, "dense_2")
    assert params.weights.float16Value[:len(old)] == old and not params.weights.floatValue
    assert len(params.bias.float16Value) == 2 * 90
    widened = [feature.name for feature in spec.description.output if list(feature.type.multiArrayType.shape) == [90]]
    assert len(widened) == 1
    assert f"output {widened[0]}: shape [87] → [90]" in [str(change) for change in changes]
    assert validate_spec(spec).valid


def test_labels_are_refused_for_a_layer_that_does_not_feed_the_probabilities():
    with pytest.raises(UsageError, match="does not produce the class probabilities"):
        widen_classifier(load_spec(SQUEEZENET), "conv10", 1010, labels=["x"] * 10)


def test_a_layer_without_an_output_is_refused_in_one_line():
    """Found by the mutated-spec property: such a layer used to raise IndexError."""
    builder = NeuralNetworkBuilder([("x", datatypes.Array(1))], [("y", datatypes.Array(1))])
    builder.add_inner_product("dense_0", np.ones((1, 1)), np.zeros(1), 1, 1, True, "x", "y")
    del builder.spec.neuralNetwork.layers[0].output[:]
    with pytest.raises(SurgeryError, match="'dense_0' writes no blob"):
        widen_classifier(builder.spec, "dense_0", 2)
