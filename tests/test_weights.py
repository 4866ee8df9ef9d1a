"""The fast WeightParams reader/writer stores exactly what protobuf's own element-by-element API would."""

import numpy as np
import pytest
from coremltools.proto import NeuralNetwork_pb2

from mlsurgery.weights import append_values, fill_float_values, float_values, set_float_values


def _every_bit_pattern_kind(count: int) -> np.ndarray:
    """float32 values from random bit patterns: normals, subnormals, ±0, ±inf and quiet NaNs with payloads.

    Signalling NaNs are made quiet because Python's float (the reference path) quiets them on the way through.
    """
    bits = np.random.default_rng(7).integers(0, 2**32, size=count + 4, dtype=np.uint32)
    bits[:4] = [0x00000000, 0x80000000, 0x7F800000, 0x7FC00123]
    values = bits[:count].view(np.float32)
    bits[:count][np.isnan(values)] |= 0x00400000
    return values


@pytest.mark.parametrize("count", [0, 1, 5, 1000, 4099])
def test_set_float_values_serializes_like_protobufs_own_extend(count):
    values = _every_bit_pattern_kind(count)
    ours = NeuralNetwork_pb2.WeightParams()
    set_float_values(ours, values)
    reference = NeuralNetwork_pb2.WeightParams()
    reference.floatValue.extend(values.tolist())
    assert ours.SerializeToString() == reference.SerializeToString()


def test_float_values_round_trips_bit_patterns():
    values = _every_bit_pattern_kind(3001)
    weights = NeuralNetwork_pb2.WeightParams()
    weights.floatValue.extend(values.tolist())
    assert float_values(weights).view(np.uint32).tolist() == values.view(np.uint32).tolist()


def test_float_values_reads_past_other_fields():
    weights = NeuralNetwork_pb2.WeightParams(isUpdatable=True)
    weights.floatValue.extend([1.5, -2.0])
    assert float_values(weights).tolist() == [1.5, -2.0]
    assert float_values(NeuralNetwork_pb2.WeightParams()).size == 0


def test_chunked_fill_draws_the_same_values_as_one_draw():
    count = 10_007
    chunked = NeuralNetwork_pb2.WeightParams()
    rng = np.random.default_rng(42)
    fill_float_values(chunked, count, lambda out, start: rng.random(out=out, dtype=np.float32), chunk=1000)
    expected = np.random.default_rng(42).random(count, dtype=np.float32)
    assert float_values(chunked).tobytes() == expected.tobytes()


def test_fill_passes_the_start_of_each_chunk():
    weights = NeuralNetwork_pb2.WeightParams()

    def positions(out, start):
        out[:] = np.arange(start, start + len(out))

    fill_float_values(weights, 2500, positions, chunk=1000)
    assert float_values(weights).tolist() == list(range(2500))


def test_rewriting_replaces_all_values_and_other_storage():
    weights = NeuralNetwork_pb2.WeightParams(float16Value=np.ones(4, "<f2").tobytes(), rawValue=b"\x01",
                                             isUpdatable=True)
    weights.quantization.numberOfBits = 8
    set_float_values(weights, np.arange(6, dtype=np.float32))
    set_float_values(weights, np.arange(3, dtype=np.float32) + 10)
    assert list(weights.floatValue) == [10.0, 11.0, 12.0]
    assert not weights.float16Value and not weights.rawValue and not weights.HasField("quantization")
    assert weights.isUpdatable


def test_fp16_values_widen_exactly():
    halves = np.array([0.1, -65504, 6e-8, np.inf], dtype=np.float16)
    weights = NeuralNetwork_pb2.WeightParams(float16Value=halves.astype("<f2").tobytes())
    assert float_values(weights).tolist() == halves.astype(np.float32).tolist()


def test_quantized_weights_have_no_float_values():
    weights = NeuralNetwork_pb2.WeightParams(rawValue=b"\x00\x01")
    weights.quantization.numberOfBits = 8
    with pytest.raises(ValueError, match="dequantize"):
        float_values(weights)


def test_append_keeps_old_values_bit_identical_in_fp32():
    old = _every_bit_pattern_kind(100)
    weights = NeuralNetwork_pb2.WeightParams()
    weights.floatValue.extend(old.tolist())
    append_values(weights, np.array([1.0, 2.0], dtype=np.float32))
    stored = float_values(weights)
    assert stored[:100].tobytes() == old.tobytes()
    assert stored[100:].tolist() == [1.0, 2.0]


def test_append_stays_fp16_for_fp16_weights():
    weights = NeuralNetwork_pb2.WeightParams(float16Value=np.array([1, 2], "<f2").tobytes())
    append_values(weights, np.array([0.5], dtype=np.float32))
    assert len(weights.floatValue) == 0
    assert np.frombuffer(weights.float16Value, "<f2").tolist() == [1.0, 2.0, 0.5]


# --- streaming serialization -----------------------------------------------------------------------------------

from conftest import FIXTURES, shared_models  # noqa: E402
from mlsurgery.io import load_spec, serialize_spec  # noqa: E402
from mlsurgery.serialize import write_message  # noqa: E402


@pytest.mark.parametrize("model", shared_models() + sorted(FIXTURES.glob("*.mlmodel")), ids=lambda p: p.name)
@pytest.mark.parametrize("piece_bytes", [1000, 1 << 20])
def test_streamed_bytes_equal_serialize_spec(model, piece_bytes):
    spec = load_spec(model)
    before = serialize_spec(spec)
    pieces = []
    assert write_message(spec, pieces.append, piece_bytes=piece_bytes) == len(before)
    assert b"".join(pieces) == before
    assert serialize_spec(spec) == before  # the spec is not modified


@pytest.mark.parametrize("model", ["turi_squeezenet.mlmodel", "mnist_mlp.mlmodel"])
def test_fp32_models_stream_in_bounded_pieces(model):
    pieces = []
    write_message(load_spec(FIXTURES / model), pieces.append, piece_bytes=1000)
    assert max(len(piece) for piece in pieces) <= 1000


def test_large_float_array_is_emitted_in_pieces_exactly():
    values = _every_bit_pattern_kind(100_003)
    layer = NeuralNetwork_pb2.NeuralNetworkLayer(name="dense")
    layer.innerProduct.inputChannels, layer.innerProduct.outputChannels = 100_003, 1
    set_float_values(layer.innerProduct.weights, values)
    layer.innerProduct.weights.isUpdatable = True
    pieces = []
    write_message(layer, pieces.append, piece_bytes=4096)
    assert b"".join(pieces) == layer.SerializeToString(deterministic=True)
    assert max(len(piece) for piece in pieces) <= 4096
