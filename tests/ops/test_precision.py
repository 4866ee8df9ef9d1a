"""fp16 and quantized weights expand to fp32 exactly as Core ML (and coremltools) define them."""

import contextlib
import io

import numpy as np
import pytest
import coremltools as ct
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder
from coremltools.models.neural_network import quantization_utils
from coremltools.proto import Model_pb2

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.errors import SurgeryError
from mlsurgery.network import LayerGraph, weight_params
from mlsurgery.io import load_spec, serialize_spec
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.ops.precision import convert_fp16_to_fp32, dequantize_layers, fp16_layers, quantized_layers
from mlsurgery.validate import validate_spec


def _values(weights) -> np.ndarray:
    return np.array(weights.floatValue, dtype=np.float32)


def _all_weights(spec) -> dict:
    return {(layer.name, path): weights for layer in LayerGraph.trainable(spec).network.layers
            for path, weights in weight_params(getattr(layer, layer.WhichOneof("layer")))}


def _trainable_kinds_spec():
    """One each of the layer kinds Core ML can train: convolution, deconvolution, innerProduct, LSTM."""
    rng = np.random.default_rng(0)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(4, 5, 5)), ("v", datatypes.Array(6))],
                                   [("y", None), ("up", None), ("h", None)])
    builder.add_convolution("conv", kernel_channels=4, output_channels=6, height=3, width=3, stride_height=1,
                            stride_width=1, border_mode="same", groups=1, W=rng.standard_normal((3, 3, 4, 6)),
                            b=rng.standard_normal(6), has_bias=True, input_name="x", output_name="maps")
    builder.add_flatten("flatten", mode=0, input_name="maps", output_name="flat")
    builder.add_inner_product("dense", W=rng.standard_normal((8, 150)), b=rng.standard_normal(8),
                              input_channels=150, output_channels=8, has_bias=True, input_name="flat",
                              output_name="y")
    builder.add_convolution("deconv", kernel_channels=4, output_channels=3, height=2, width=2, stride_height=2,
                            stride_width=2, border_mode="valid", groups=1, W=rng.standard_normal((2, 2, 4, 3)),
                            b=None, has_bias=False, is_deconv=True, output_shape=[10, 10], input_name="x",
                            output_name="up")
    builder.add_unilstm("lstm", W_h=[rng.standard_normal((5, 5)) for _ in range(4)],
                        W_x=[rng.standard_normal((5, 6)) for _ in range(4)], b=[rng.standard_normal(5)] * 4,
                        hidden_size=5, input_size=6, input_names=["v"], output_names=["h"])
    return builder.spec


def _quantized_with_coremltools(spec, nbits, mode):
    kwargs = {}
    if mode == "custom_lut":  # a table of our own: the linear one coremltools would build, through its hook
        kwargs["lut_function"] = quantization_utils._get_linear_lookup_table_and_weight
    with contextlib.redirect_stdout(io.StringIO()):
        model = ct.models.MLModel(spec, skip_model_load=True)
        return quantization_utils.quantize_weights(model, nbits, mode, **kwargs).get_spec()


@pytest.mark.parametrize("nbits, mode", [(bits, "linear") for bits in range(1, 9)]
                         + [(2, "linear_lut"), (4, "linear_lut"), (3, "custom_lut"), (8, "linear_symmetric")])
def test_coremltools_quantization_round_trips(nbits, mode):
    original = _trainable_kinds_spec()
    quantized = _quantized_with_coremltools(original, nbits, mode)
    reference = Model_pb2.Model()
    reference.CopyFrom(quantized)
    layers = ["conv", "dense", "deconv", "lstm"]
    assert quantized_layers(quantized, layers) == layers
    dequantize_layers(quantized, layers)
    assert quantized_layers(quantized) == []
    with contextlib.redirect_stdout(io.StringIO()):
        quantization_utils._dequantize_nn_spec(reference.neuralNetwork)
    ours, theirs, floats = _all_weights(quantized), _all_weights(reference), _all_weights(original)
    for key, weights in ours.items():
        values = _values(weights)
        assert not weights.HasField("quantization") and not weights.rawValue
        assert values.tobytes() == _values(theirs[key]).tobytes(), key
        exact = _values(floats[key])
        if mode == "linear_symmetric":  # levels span ±max|w| in 2^(n-1) - 1 steps each way
            half_step = np.abs(exact).max() / (2 ** (nbits - 1) - 1) / 2
        else:
            half_step = (exact.max() - exact.min()) / (2**nbits - 1) / 2
        assert np.abs(values - exact).max() <= half_step * 1.0001 + 1e-6, key


def test_bits_are_packed_most_significant_first_across_bytes():
    # 3-bit values 5, 1, 7, 0, 2 → bits 101 001 111 000 010 (+ one pad bit) → bytes 1010 0111, 1000 0100.
    spec = _trainable_kinds_spec()
    dense = LayerGraph.trainable(spec).layer("dense").params
    dense.outputChannels, dense.inputChannels = 1, 5
    weights = dense.weights
    weights.ClearField("floatValue")
    weights.rawValue = bytes([0b10100111, 0b10000100])
    weights.quantization.numberOfBits = 3
    weights.quantization.lookupTableQuantization.floatValue.extend([10.0 * i for i in range(8)])
    dequantize_layers(spec, ["dense"])
    assert list(weights.floatValue) == [50.0, 10.0, 70.0, 0.0, 20.0]


def test_linear_quantization_without_bias_reads_bias_as_zero_per_channel():
    spec = _trainable_kinds_spec()
    dense = LayerGraph.trainable(spec).layer("dense").params
    dense.outputChannels, dense.inputChannels = 2, 2
    dense.weights.ClearField("floatValue")
    dense.weights.rawValue = bytes([1, 2, 3, 4])
    dense.weights.quantization.numberOfBits = 8
    dense.weights.quantization.linearQuantization.scale.extend([0.5, 2.0])  # one per output channel (row)
    dequantize_layers(spec, ["dense"])
    assert list(dense.weights.floatValue) == [0.5, 1.0, 6.0, 8.0]


def test_int8_weights_expand_and_dynamic_quantization_is_switched_off():
    spec = _trainable_kinds_spec()
    dense = LayerGraph.trainable(spec).layer("dense").params
    dense.outputChannels, dense.inputChannels, dense.int8DynamicQuantize = 1, 3, True
    dense.weights.ClearField("floatValue")
    dense.weights.int8RawValue = np.array([-128, 0, 127], dtype=np.int8).tobytes()
    dense.weights.quantization.numberOfBits = 8
    dense.weights.quantization.linearQuantization.scale.append(0.25)
    changes = dequantize_layers(spec, ["dense"])
    assert list(dense.weights.floatValue) == [-32.0, 0.0, 31.75]
    assert not dense.int8DynamicQuantize and not dense.weights.int8RawValue
    assert "int8DynamicQuantize off" in [change.detail.split(" (")[0] for change in changes]


@pytest.mark.parametrize("breakage, message", [
    (lambda w: w.quantization.lookupTableQuantization.floatValue.pop(), "lookup table has 7 entries, 3-bit needs 8"),
    (lambda w: setattr(w, "rawValue", b"\x00"), "has 1 bytes, 5 3-bit values need 2"),
    (lambda w: setattr(w.quantization, "numberOfBits", 9), "numberOfBits is 9"),
])
def test_broken_quantization_is_refused_naming_the_layer_before_any_change(breakage, message):
    spec = _trainable_kinds_spec()
    dense = LayerGraph.trainable(spec).layer("dense").params
    dense.outputChannels, dense.inputChannels = 1, 5
    dense.weights.ClearField("floatValue")
    dense.weights.rawValue = bytes(2)
    dense.weights.quantization.numberOfBits = 3
    dense.weights.quantization.lookupTableQuantization.floatValue.extend(range(8))
    breakage(dense.weights)
    before = serialize_spec(spec)
    with pytest.raises(SurgeryError, match=f"layer 'dense' weights: {message}"):
        dequantize_layers(spec, ["dense"])
    assert serialize_spec(spec) == before


def test_third_party_int8_model_matches_coremltools_and_becomes_valid():
    spec = load_spec(SHARED_MODELS / "int8_segmentation.mlmodel")
    reference = Model_pb2.Model()
    reference.CopyFrom(spec)
    layers = quantized_layers(spec)
    assert len(layers) == 42 and quantized_layers(spec, ["conv1", "conv1_relu"]) == ["conv1"]
    dequantize_layers(spec, layers)
    with contextlib.redirect_stdout(io.StringIO()):
        quantization_utils._dequantize_nn_spec(reference.neuralNetwork)
    theirs = _all_weights(reference)
    for key, weights in _all_weights(spec).items():
        assert _values(weights).tobytes() == _values(theirs[key]).tobytes(), key
    assert quantized_layers(spec) == [] and validate_spec(spec).valid


def test_dequantized_classifier_can_be_made_updatable():
    quantized = _quantized_with_coremltools(load_spec(FIXTURES / "mnist_mlp.mlmodel"), 4, "linear_lut")
    dequantize_layers(quantized, ["dense_3"])
    make_updatable(quantized, ["dense_3"])
    assert validate_spec(quantized).valid


def test_fp16_weights_widen_exactly_and_report_growth():
    spec = load_spec(SHARED_MODELS / "fp16_lstm_decoder.mlmodel")
    halves = {key: np.frombuffer(weights.float16Value, "<f2") for key, weights in _all_weights(spec).items()
              if weights.float16Value}
    assert fp16_layers(spec) == ["decoder_lstm", "dense_2"]
    size_before = len(serialize_spec(spec))
    changes = convert_fp16_to_fp32(spec)
    growth = len(serialize_spec(spec)) - size_before
    weights = _all_weights(spec)
    for key, half in halves.items():
        assert _values(weights[key]).tobytes() == half.astype(np.float32).tobytes(), key
        assert not weights[key].float16Value
    assert fp16_layers(spec) == []
    total = changes.items[-1]
    reported = int(total.detail.split("grows by ")[1].split(" bytes")[0].replace(",", ""))
    assert total.target == "model" and reported >= 2 * sum(half.size for half in halves.values())
    assert 0 <= growth - reported < 16  # enclosing messages' length prefixes may grow by a byte or two
    assert validate_spec(spec).valid


def test_fp16_conversion_accepts_a_network_message_and_leaves_fp32_alone():
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    before = serialize_spec(spec)
    network = LayerGraph.trainable(spec).network
    assert fp16_layers(network) == [] and len(convert_fp16_to_fp32(network)) == 0
    assert serialize_spec(spec) == before


def test_dequantize_refuses_a_kind_core_ml_cannot_train():
    spec = Model_pb2.Model(specificationVersion=4)
    layer = spec.neuralNetwork.layers.add(name="norm")
    layer.batchnorm.channels = 2
    for name in ("gamma", "beta", "mean", "variance"):
        weights = getattr(layer.batchnorm, name)
        weights.rawValue = b"\x00\x00"
        weights.quantization.numberOfBits = 8
        weights.quantization.linearQuantization.scale.append(1.0)
    before = serialize_spec(spec)
    with pytest.raises(SurgeryError, match="'norm' is a batchnorm layer; dequantize works on convolution"):
        dequantize_layers(spec, ["norm"])
    assert serialize_spec(spec) == before


def test_chunked_expansion_keeps_channels_and_bits_aligned_across_chunks():
    # 2.5 M values cross two chunk boundaries of the writer (1 M values each); 3-bit values and 5 row scales
    # make both the bit offsets and the channel of each value depend on the chunk start.
    rows, columns, bits = 5, 500_001, 3
    q = np.random.default_rng(0).integers(0, 2**bits, rows * columns, dtype=np.uint8)
    scale, bias = np.array([0.5, 1.0, 2.0, -1.0, 0.25]), np.array([1.0, 0.0, -3.0, 2.0, 0.5])
    spec = _trainable_kinds_spec()
    dense = LayerGraph.trainable(spec).layer("dense").params
    dense.outputChannels, dense.inputChannels = rows, columns
    dense.weights.ClearField("floatValue")
    dense.weights.rawValue = np.packbits(((q[:, None] >> np.arange(bits - 1, -1, -1)) & 1).reshape(-1)).tobytes()
    dense.weights.quantization.numberOfBits = bits
    dense.weights.quantization.linearQuantization.scale.extend(scale)
    dense.weights.quantization.linearQuantization.bias.extend(bias)
    dequantize_layers(spec, ["dense"])
    expected = (q.reshape(rows, columns) * scale[:, None] + bias[:, None]).astype(np.float32).reshape(-1)
    assert np.frombuffer(dense.weights.SerializeToString()[-4 * q.size:], "<f4").tobytes() == expected.tobytes()
