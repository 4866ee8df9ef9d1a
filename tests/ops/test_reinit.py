"""reinit draws fresh weights inside the documented bounds, repeatably, and touches nothing else."""

import numpy as np
import pytest
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.errors import SurgeryError, UsageError
from mlsurgery.network import LayerGraph
from mlsurgery.io import load_spec, serialize_spec
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.ops.reinit import reinit_layers
from mlsurgery.validate import validate_spec

SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"


def _values(weights) -> np.ndarray:
    return np.array(weights.floatValue, dtype=np.float32)


def _layer(spec, name):
    return LayerGraph.trainable(spec).layer(name).params


def _layer_bytes(spec) -> dict:
    return {layer.name: layer.SerializeToString() for layer in LayerGraph.trainable(spec).network.layers}


def test_kaiming_uniform_draws_inside_their_bounds_for_dense_and_conv():
    spec = load_spec(SQUEEZENET)
    reinit_layers(spec, ["fullyconnected0", "conv10"], rng=np.random.default_rng(1))
    for name, fan_in in (("fullyconnected0", 1000), ("conv10", 512 * 1 * 1)):
        params = _layer(spec, name)
        weights, bias = _values(params.weights), _values(params.bias)
        weight_bound, bias_bound = np.float32(np.sqrt(6 / fan_in)), np.float32(1 / np.sqrt(fan_in))
        assert np.abs(weights).max() <= weight_bound and np.abs(bias).max() <= bias_bound
        # The draws cover the interval rather than sitting in a corner of it.
        assert weights.min() < -0.9 * weight_bound and weights.max() > 0.9 * weight_bound
        assert abs(weights.mean()) < 0.05 * weight_bound


def test_convolution_fan_in_counts_kernel_area():
    spec = load_spec(SQUEEZENET)
    reinit_layers(spec, ["fire2/expand3x3"], rng=np.random.default_rng(2))
    params = _layer(spec, "fire2/expand3x3")
    fan_in = params.kernelChannels * 3 * 3
    weights = _values(params.weights)
    assert weights.size == params.outputChannels * fan_in
    assert np.abs(weights).max() <= np.float32(np.sqrt(6 / fan_in))
    assert np.abs(weights).max() > 0.9 * np.sqrt(6 / fan_in)


def test_seeded_runs_are_byte_identical_and_seeds_matter():
    def run(seed, layers):
        spec = load_spec(SQUEEZENET)
        reinit_layers(spec, layers, rng=np.random.default_rng(seed))
        return serialize_spec(spec)

    first = run(5, ["fullyconnected0", "conv10"])
    assert run(5, ["fullyconnected0", "conv10"]) == first
    assert run(5, ["conv10", "fullyconnected0"]) == first  # drawn in network order, not argument order
    assert run(6, ["fullyconnected0", "conv10"]) != first


def test_other_layers_stay_bit_identical():
    spec = load_spec(SQUEEZENET)
    before = _layer_bytes(spec)
    reinit_layers(spec, ["conv10"], rng=np.random.default_rng(3))
    after = _layer_bytes(spec)
    assert [name for name in before if before[name] != after[name]] == ["conv10"]


def test_kaiming_normal_has_the_he_standard_deviation_and_zero_bias():
    spec = load_spec(SQUEEZENET)
    reinit_layers(spec, ["conv10"], init="kaiming-normal", rng=np.random.default_rng(4))
    weights = _values(_layer(spec, "conv10").weights)
    assert weights.std() == pytest.approx(np.sqrt(2 / 512), rel=0.01)
    assert abs(weights.mean()) < 0.01 * np.sqrt(2 / 512)
    assert not _values(_layer(spec, "conv10").bias).any()


def test_xavier_uniform_bound_uses_fan_in_and_fan_out():
    spec = load_spec(SQUEEZENET)
    reinit_layers(spec, ["fullyconnected0"], init="xavier-uniform", rng=np.random.default_rng(5))
    weights = _values(_layer(spec, "fullyconnected0").weights)
    bound = np.sqrt(6 / (1000 + 3))
    assert np.abs(weights).max() <= np.float32(bound) and np.abs(weights).max() > 0.9 * bound
    assert not _values(_layer(spec, "fullyconnected0").bias).any()


def test_zeros_needs_no_generator():
    spec = load_spec(SQUEEZENET)
    reinit_layers(spec, ["fullyconnected0"], init="zeros", rng=None)
    params = _layer(spec, "fullyconnected0")
    assert _values(params.weights).tolist() == [0.0] * 3000 and _values(params.bias).tolist() == [0.0] * 3


def test_changes_name_each_layer_and_distribution():
    spec = load_spec(SQUEEZENET)
    changes = reinit_layers(spec, ["fullyconnected0"], rng=np.random.default_rng(0))
    assert [str(change) for change in changes] == [
        "layer fullyconnected0: weights: 3,000 values kaiming-uniform U(±0.0774597)",
        "layer fullyconnected0: bias: 3 values U(±0.0316228)",
    ]


def test_fp16_layer_becomes_fp32_and_stays_valid():
    spec = load_spec(SHARED_MODELS / "fp16_lstm_decoder.mlmodel")
    changes = reinit_layers(spec, ["dense_2"], rng=np.random.default_rng(0))
    params = _layer(spec, "dense_2")
    assert not params.weights.float16Value and not params.bias.float16Value
    assert len(params.weights.floatValue) == params.inputChannels * params.outputChannels
    assert all("(was fp16)" in change.detail for change in changes)
    assert validate_spec(spec).valid


def test_third_party_classifier_reinit_then_made_updatable_is_valid():
    spec = load_spec(SHARED_MODELS / "quickdraw_classifier.mlmodel")
    reinit_layers(spec, ["conv2d_1", "dense_3"], rng=np.random.default_rng(9))
    conv = _layer(spec, "conv2d_1")
    assert np.abs(_values(conv.weights)).max() <= np.float32(np.sqrt(6 / (1 * 5 * 5)))
    make_updatable(spec, ["conv2d_1", "dense_3"])
    assert validate_spec(spec).valid


def _deconvolution_spec():
    builder = NeuralNetworkBuilder([("x", datatypes.Array(2, 4, 4))], [("y", None)])
    builder.add_convolution("up", kernel_channels=2, output_channels=3, height=2, width=2, stride_height=2,
                            stride_width=2, border_mode="valid", groups=1, W=np.ones((2, 2, 2, 3)), b=None,
                            has_bias=False, is_deconv=True, output_shape=[8, 8], input_name="x", output_name="y")
    return builder.spec


@pytest.mark.parametrize("spec, layer, message", [
    (lambda: load_spec(SQUEEZENET), "pool10", "'pool10' is a pooling layer"),
    (_deconvolution_spec, "up", "'up' is a deconvolution layer"),
])
def test_layers_without_known_fans_are_refused_before_any_change(spec, layer, message):
    spec = spec()
    before = serialize_spec(spec)
    names = [layer] if layer == "up" else ["fullyconnected0", layer]
    with pytest.raises(SurgeryError, match=message):
        reinit_layers(spec, names, rng=np.random.default_rng(0))
    assert serialize_spec(spec) == before


@pytest.mark.parametrize("layers, init, message", [
    (["fullyconected0"], "kaiming-uniform", "did you mean 'fullyconnected0'"),
    ([], "kaiming-uniform", "no layers given"),
    (["fullyconnected0"], "he", "unknown init 'he'"),
])
def test_usage_errors(layers, init, message):
    with pytest.raises(UsageError, match=message):
        reinit_layers(load_spec(SQUEEZENET), layers, init=init, rng=np.random.default_rng(0))


# --- detached fills: the values drawn later, the generator moved on now --------------------------------------

from mlsurgery.ops.reinit import skip_float32_draws, uniform_fill  # noqa: E402
from mlsurgery.weights import CHUNK_VALUES  # noqa: E402


@pytest.mark.parametrize("sizes", [[10_007], [1000] * 10 + [7], [1, 2, 3, 10_001], [CHUNK_VALUES // 3] * 4])
def test_float32_draws_do_not_depend_on_how_the_array_is_sliced(sizes):
    whole = np.random.default_rng(11).random(sum(sizes), dtype=np.float32)
    rng, parts = np.random.default_rng(11), []
    for size in sizes:
        parts.append(np.empty(size, np.float32))
        rng.random(out=parts[-1], dtype=np.float32)
    assert np.concatenate(parts).tobytes() == whole.tobytes()


@pytest.mark.parametrize("bits", [np.random.PCG64, np.random.PCG64DXSM])
@pytest.mark.parametrize("buffered", [0, 1])
@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 1001, 1002])
def test_skipping_leaves_the_generator_as_drawing_would(bits, buffered, count):
    drawn, skipped = np.random.Generator(bits(5)), np.random.Generator(bits(5))
    for rng in (drawn, skipped):
        rng.random(buffered, dtype=np.float32)  # one float leaves half a 64-bit output buffered
    before = skipped.bit_generator.state
    values = drawn.random(count, dtype=np.float32)
    assert skip_float32_draws(skipped, count) == before
    assert skipped.bit_generator.state == drawn.bit_generator.state
    assert skipped.random(5, dtype=np.float32).tobytes() == drawn.random(5, dtype=np.float32).tobytes()
    assert values.size == count


def test_a_detached_fill_draws_what_the_fill_would_have_as_often_as_asked():
    count = 3 * 1000 + 1
    eager_rng = np.random.default_rng(3)
    eager = np.empty(count, np.float32)
    uniform_fill(eager_rng, 0.5)(eager, 0)
    after_eager = eager_rng.random(4, dtype=np.float32)
    rng = np.random.default_rng(3)
    make = uniform_fill(rng, 0.5).detach(count)
    assert rng.random(4, dtype=np.float32).tobytes() == after_eager.tobytes()
    for _ in range(2):
        later, fill = np.empty(count, np.float32), make()
        for start in range(0, count, 1000):
            fill(later[start:start + 1000], start)
        assert later.tobytes() == eager.tobytes()


def test_generators_that_cannot_skip_are_left_alone():
    rng = np.random.Generator(np.random.MT19937(1))
    before = rng.bit_generator.state
    assert uniform_fill(rng, 1.0).detach(10) is None
    assert skip_float32_draws(rng, 10) is None
    assert str(rng.bit_generator.state) == str(before)
