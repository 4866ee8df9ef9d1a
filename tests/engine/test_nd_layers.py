"""N-D layers (exact-rank networks) built with coremltools' NeuralNetworkBuilder and checked against NumPy written
from NeuralNetwork.proto's descriptions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlsurgery.engine import build_model
from mlsurgery.engine.errors import EngineRuntimeError, UnsupportedModelError
from mlsurgery.shapes.nd import blob_shapes

ct = pytest.importorskip("coremltools")
from coremltools.models import datatypes  # noqa: E402
from coremltools.models.neural_network import NeuralNetworkBuilder  # noqa: E402


@pytest.mark.parametrize("reps", [[2, 1, 3], [3], [2, 3]])
def test_tile_repeats_each_axis_and_prepends_ones_to_short_reps(reps):
    """TileLayerParams: 'If it is less than the input rank, it is made equal to the input rank by prepending 1's'
    (input (2, 4, 2), reps (6) → (2, 4, 12)), as numpy.tile does."""
    x = np.arange(2 * 4 * 2, dtype=np.float32).reshape(2, 4, 2)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(*x.shape))], [("y", None)], disable_rank5_shape_mapping=True)
    builder.add_tile("tile", "x", "y", reps=reps)
    np.testing.assert_array_equal(build_model(builder.spec).predict({"x": x})["y"], np.tile(x, reps))


def test_tile_takes_its_repetitions_from_a_second_input():
    """TileLayerParams: 'If two inputs are provided, second input is used as reps and reps parameter is ignored'."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(2, 3)), ("reps", datatypes.Array(2))], [("y", None)],
                                   disable_rank5_shape_mapping=True)
    builder.add_tile("tile", "x", "y", reps=[1, 1])
    builder.spec.neuralNetwork.layers[0].input.append("reps")
    out = build_model(builder.spec).predict({"x": x, "reps": np.array([3, 2], np.float32)})["y"]
    np.testing.assert_array_equal(out, np.tile(x, (3, 2)))


def _builder(inputs, outputs=("y",)):
    """An exact-rank network builder over ``inputs`` ({name: shape})."""
    return NeuralNetworkBuilder([(name, datatypes.Array(*shape)) for name, shape in inputs.items()],
                                [(name, None) for name in outputs], disable_rank5_shape_mapping=True)


def _predict(builder, values, output="y"):
    """The engine's output for one example, after checking its shape against shapes.nd's propagation where that
    knows the layer (two implementations of the proto's shape rules must agree)."""
    out = build_model(builder.spec).predict(values)[output]
    propagated = blob_shapes(builder.spec, builder.spec.neuralNetwork)[output]
    if propagated is not None:
        assert out.shape == propagated
    return out


def _indices(rng, shape, high):
    return rng.integers(0, high, size=shape).astype(np.float32)


@pytest.mark.parametrize("data_shape, indices_shape, out_shape", [
    ((4, 2, 3, 4), (6, 2), (6, 3, 4)), ((3, 3, 3, 4, 7), (3, 5), (3,)), ((5, 3, 2, 5), (2, 7, 3, 2), (2, 7, 3, 2, 5)),
])
def test_gather_nd_takes_the_slices_the_multi_indices_name(data_shape, indices_shape, out_shape):
    """GatherNDLayerParams: output[i..j, :] = params[indices[i..j, :], :], with the proto's three shape examples."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=data_shape).astype(np.float32)
    depth = indices_shape[-1]
    indices = np.stack([_indices(rng, indices_shape[:-1], size) for size in data_shape[:depth]], axis=-1)
    builder = _builder({"data": data_shape, "indices": indices_shape})
    builder.add_gather_nd("g", ["data", "indices"], "y")
    out = _predict(builder, {"data": data, "indices": indices})
    assert blob_shapes(builder.spec, builder.spec.neuralNetwork)["y"] == out_shape
    np.testing.assert_array_equal(out, data[tuple(np.moveaxis(indices.astype(int), -1, 0))])


def test_gather_nd_uses_each_examples_own_indices():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(3, 4, 5)).astype(np.float32)
    indices = np.stack([_indices(rng, (3, 6), 4), _indices(rng, (3, 6), 5)], axis=-1)
    builder = _builder({"data": (4, 5), "indices": (6, 2)})
    builder.add_gather_nd("g", ["data", "indices"], "y")
    out = build_model(builder.spec).predict_batch({"data": data, "indices": indices})["y"]
    expected = [d[tuple(i.astype(int).T)] for d, i in zip(data, indices)]
    np.testing.assert_array_equal(out, np.stack(expected))


def test_gather_nd_refuses_an_index_outside_the_data():
    builder = _builder({"data": (2, 3), "indices": (1, 2)})
    builder.add_gather_nd("g", ["data", "indices"], "y")
    with pytest.raises(EngineRuntimeError, match="outside"):
        build_model(builder.spec).predict({"data": np.zeros((2, 3), np.float32),
                                           "indices": np.array([[0, 3]], np.float32)})


def _scatter_reference(container, points, updates, combine):
    """The proto's loop: for each point in order, output[point] = combine(output[point], update)."""
    output = container.copy()
    for point, update in zip(points, updates):
        output[tuple(point)] = combine(output[tuple(point)], update)
    return output


_COMBINE = {"UPDATE": lambda current, update: update, "ADD": np.add, "SUB": np.subtract, "MUL": np.multiply,
            "DIV": np.divide, "MAX": np.maximum, "MIN": np.minimum}


@pytest.mark.parametrize("mode", sorted(_COMBINE))
@pytest.mark.parametrize("container_shape, indices_shape", [((3, 2), (4, 2)), ((7, 6), (4, 7, 2, 5, 1))])
def test_scatter_nd_combines_updates_in_order_including_repeated_indices(mode, container_shape, indices_shape):
    """ScatterNDLayerParams with the proto's two shape examples; indices repeat (4·7·2·5 points into 7 rows), so
    the order in which updates combine shows."""
    rng = np.random.default_rng(2)
    depth = indices_shape[-1]
    container = rng.uniform(1, 2, size=container_shape).astype(np.float32)
    indices = np.stack([_indices(rng, indices_shape[:-1], size) for size in container_shape[:depth]], axis=-1)
    updates_shape = indices_shape[:-1] + container_shape[depth:]
    updates = rng.uniform(1, 2, size=updates_shape).astype(np.float32)
    builder = _builder({"container": container_shape, "indices": indices_shape, "updates": updates_shape})
    builder.add_scatter_nd("s", ["container", "indices", "updates"], "y", mode=mode)
    out = _predict(builder, {"container": container, "indices": indices, "updates": updates})
    points = indices.astype(int).reshape(-1, depth)
    expected = _scatter_reference(container, points, updates.reshape(len(points), *container_shape[depth:]),
                                  _COMBINE[mode])
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    if mode == "ADD":  # an independent check of accumulation over repeated indices
        added = container.copy()
        np.add.at(added, tuple(points.T), updates.reshape(len(points), *container_shape[depth:]))
        np.testing.assert_allclose(out, added, rtol=1e-6)


@pytest.mark.parametrize("mode", ["UPDATE", "ADD", "MAX"])
def test_scatter_along_axis_puts_updates_along_the_axis(mode):
    """ScatterAlongAxisLayerParams with the proto's example shapes (container (2, 5, 6), indices (2, 2, 6),
    axis -2) and negative indices ('supported'); checked against numpy.put_along_axis without repeated targets."""
    rng = np.random.default_rng(3)
    container = rng.normal(size=(2, 5, 6)).astype(np.float32)
    order = np.argsort(rng.random((2, 5, 6)), axis=1)[:, :2]  # two distinct rows per column
    indices = np.where(order % 2 == 0, order - 5, order).astype(np.float32)  # some as negative indices
    updates = rng.normal(size=(2, 2, 6)).astype(np.float32)
    builder = _builder({"container": (2, 5, 6), "indices": (2, 2, 6), "updates": (2, 2, 6)})
    builder.add_scatter_along_axis("s", ["container", "indices", "updates"], "y", axis=-2, mode=mode)
    out = _predict(builder, {"container": container, "indices": indices, "updates": updates})
    expected = container.copy()
    targets = order.astype(int)
    if mode == "UPDATE":
        np.put_along_axis(expected, targets, updates, axis=1)
    else:
        combine = _COMBINE[mode]
        np.put_along_axis(expected, targets, combine(np.take_along_axis(expected, targets, axis=1), updates), axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_scatter_along_axis_combines_repeated_targets_in_order():
    """The proto's loop over every index: an element hit twice gets both updates, the later one last."""
    container = np.zeros((3, 2), np.float32)
    indices = np.array([[1, 0], [1, 0]], np.float32)
    updates = np.array([[1, 2], [3, 4]], np.float32)
    for mode, expected in (("UPDATE", [[0, 4], [3, 0], [0, 0]]), ("ADD", [[0, 6], [4, 0], [0, 0]])):
        builder = _builder({"container": (3, 2), "indices": (2, 2), "updates": (2, 2)})
        builder.add_scatter_along_axis("s", ["container", "indices", "updates"], "y", axis=0, mode=mode)
        out = _predict(builder, {"container": container, "indices": indices, "updates": updates})
        np.testing.assert_array_equal(out, np.array(expected, np.float32))


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("values, axis, ascending, downward", [
    ([3.1, 5.4, 32.9, 3.2, 77.0], 0, [0, 3, 1, 2, 4], [4, 2, 1, 3, 0]),
    ([[3, 5, 32], [3, 77, 6]], 1, [[0, 1, 2], [0, 2, 1]], [[2, 1, 0], [1, 2, 0]]),
])
def test_arg_sort_gives_the_protos_examples(values, axis, ascending, downward, descending):
    x = np.array(values, np.float32)
    builder = _builder({"x": x.shape})
    builder.add_argsort("a", "x", "y", axis=axis, descending=descending)
    np.testing.assert_array_equal(_predict(builder, {"x": x}), np.array(downward if descending else ascending))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_arg_sort_matches_numpy_on_any_axis(axis):
    x = np.random.default_rng(4).normal(size=(3, 4, 5)).astype(np.float32)
    builder = _builder({"x": x.shape})
    builder.add_argsort("a", "x", "y", axis=axis % 3)
    np.testing.assert_array_equal(_predict(builder, {"x": x}), np.argsort(x, axis=axis % 3, kind="stable"))
    builder = _builder({"x": x.shape})
    builder.add_argsort("a", "x", "y", axis=axis % 3, descending=True)
    np.testing.assert_array_equal(_predict(builder, {"x": x}), np.argsort(-x, axis=axis % 3, kind="stable"))


@pytest.mark.parametrize("values", [
    [0, 1, 0, 2],  # the proto's examples: [[1], [3]] ...
    [[1, 2, 1], [0, 2, 2], [2, 1, 0]],  # ... and seven rows of [row, column]
    np.arange(24).reshape(2, 3, 4) % 5,
])
def test_where_non_zero_lists_the_multi_indices_of_non_zero_elements(values):
    x = np.array(values, np.float32)
    builder = _builder({"x": x.shape})
    builder.add_where_nonzero("w", "x", "y")
    np.testing.assert_array_equal(_predict(builder, {"x": x}), np.argwhere(x))


def test_where_non_zero_refuses_examples_with_different_counts():
    builder = _builder({"x": (3,)})
    builder.add_where_nonzero("w", "x", "y")
    model = build_model(builder.spec)
    same_count = np.array([[1, 0, 2], [0, 3, 4]], np.float32)
    np.testing.assert_array_equal(model.predict_batch({"x": same_count})["y"], [np.argwhere(x) for x in same_count])
    with pytest.raises(EngineRuntimeError, match="different numbers of non-zero elements"):
        model.predict_batch({"x": np.array([[1, 0, 2], [0, 0, 4]], np.float32)})


@pytest.mark.parametrize("shape, axis", [((10,), -1), ((10, 23), 1), ((10,), 0), ((2, 3), -2)])
def test_one_hot_adds_the_axis_the_proto_describes(shape, axis):
    """OneHotLayerParams' shape examples: (10,) size 32 axis -1 → (10, 32); (10, 23) axis 1 → (10, 32, 23);
    (10,) axis 0 → (32, 10). Reference: rows of numpy.eye moved to the output axis."""
    x = np.random.default_rng(5).integers(0, 32, size=shape).astype(np.float32)
    builder = _builder({"x": shape})
    builder.add_one_hot("o", ["x"], "y", one_hot_vector_size=32, axis=axis)
    out = _predict(builder, {"x": x})
    np.testing.assert_array_equal(out, np.moveaxis(np.eye(32)[x.astype(int)], -1, axis))


@pytest.mark.parametrize("values, expected", [
    ([2, 0], [[-1, -1, 5, -1], [5, -1, -1, -1]]), ([2, -1], [[-1, -1, 5, -1], [-1, -1, -1, -1]]),
    ([4, 1], [[-1, -1, -1, -1], [-1, 5, -1, -1]]),
])
def test_one_hot_uses_on_and_off_values_and_ignores_indices_out_of_range(values, expected):
    """The proto's examples (size 4, onValue 5, offValue -1; -1 gives all offValue), and an index past the end."""
    builder = _builder({"x": (2,)})
    builder.add_one_hot("o", ["x"], "y", one_hot_vector_size=4, axis=-1, on_value=5.0, off_value=-1.0)
    np.testing.assert_array_equal(_predict(builder, {"x": np.array(values, np.float32)}), expected)


def test_one_hot_takes_its_size_from_a_second_input_the_same_for_every_example():
    builder = _builder({"x": (3,), "size": (1,)})
    builder.add_one_hot("o", ["x", "size"], "y", axis=-1)
    model = build_model(builder.spec)
    x = np.array([[0, 2, 1], [1, 1, 0]], np.float32)
    out = model.predict_batch({"x": x, "size": np.array([[3], [3]], np.float32)})["y"]
    np.testing.assert_array_equal(out, np.eye(3)[x.astype(int)])
    with pytest.raises(EngineRuntimeError, match="different one-hot sizes"):
        model.predict_batch({"x": x, "size": np.array([[3], [4]], np.float32)})


@pytest.mark.parametrize("k", [-1, 0, 2])
@pytest.mark.parametrize("kind", ["lower", "upper"])
def test_triangular_layers_match_numpy_tril_and_triu(kind, k):
    x = np.random.default_rng(6).normal(size=(2, 4, 5)).astype(np.float32)
    builder = _builder({"x": x.shape})
    getattr(builder, f"add_{kind}_triangular")("t", "x", "y", k=k)
    np.testing.assert_array_equal(_predict(builder, {"x": x}), (np.tril if kind == "lower" else np.triu)(x, k))


@pytest.mark.parametrize("lower, upper", [(-1, -1), (0, 0), (1, -1), (-1, 2), (2, 1), (0, 3)])
def test_matrix_band_part_keeps_the_band_the_proto_defines(lower, upper):
    """band(m, n) = (num_lower < 0 || (m-n) <= num_lower) && (num_upper < 0 || (n-m) <= num_upper), written out
    element by element; it is also tril/triu where both bounds are set."""
    x = np.random.default_rng(7).normal(size=(3, 4, 5)).astype(np.float32)
    builder = _builder({"x": x.shape})
    builder.add_matrix_band_part("b", "x", "y", num_lower=lower, num_upper=upper)
    out = _predict(builder, {"x": x})
    expected = x.copy()
    for m in range(4):
        for n in range(5):
            if not ((lower < 0 or m - n <= lower) and (upper < 0 or n - m <= upper)):
                expected[..., m, n] = 0
    np.testing.assert_array_equal(out, expected)
    if lower >= 0 and upper >= 0:
        np.testing.assert_array_equal(out, np.triu(np.tril(x, upper), -lower))


def test_matrix_layers_refuse_a_rank_1_input():
    builder = _builder({"x": (4,)})
    builder.add_lower_triangular("t", "x", "y")
    with pytest.raises(EngineRuntimeError, match="rank 2 or more"):
        build_model(builder.spec).predict_batch({"x": np.ones((4, 4), np.float32)})


def test_get_shape_gives_the_shape_as_a_vector():
    builder = _builder({"x": (2, 3, 4)})
    builder.add_get_shape("s", "x", "y")
    np.testing.assert_array_equal(_predict(builder, {"x": np.zeros((2, 3, 4), np.float32)}), [2, 3, 4])


@pytest.mark.parametrize("data, lengths, expected", [
    (np.arange(8).reshape(2, 4), [3, 0], [[2, 1, 0, 3], [4, 5, 6, 7]]),
    (np.arange(12).reshape(2, 3, 2), [2, 3], [[[2, 3], [0, 1], [4, 5]], [[10, 11], [8, 9], [6, 7]]]),
])
def test_reverse_seq_gives_the_protos_examples(data, lengths, expected):
    data = data.astype(np.float32)
    builder = _builder({"data": data.shape, "lengths": (2,)})
    builder.add_reverse_sequence("r", ["data", "lengths"], "y", batch_axis=0, seq_axis=1)
    out = _predict(builder, {"data": data, "lengths": np.array(lengths, np.float32)})
    np.testing.assert_array_equal(out, expected)


def test_reverse_seq_reverses_each_batch_entrys_prefix_on_other_axes():
    rng = np.random.default_rng(8)
    data = rng.normal(size=(2, 3, 5, 4)).astype(np.float32)
    lengths = np.array([5, 1, 3], np.float32)
    builder = _builder({"data": data.shape, "lengths": (3,)})
    builder.add_reverse_sequence("r", ["data", "lengths"], "y", batch_axis=1, seq_axis=-2)
    expected = data.copy()
    for b, length in enumerate(lengths.astype(int)):
        expected[:, b, :length] = data[:, b, :length][:, ::-1]
    np.testing.assert_array_equal(_predict(builder, {"data": data, "lengths": lengths}), expected)


@pytest.mark.parametrize("start, end, step", [(0, 5, 1), (2, 11, 3), (1.5, -2, -0.5), (0, 1, 0.1), (3, 1, 1)])
def test_range_static_is_numpy_arange(start, end, step):
    builder = _builder({"x": (1,)})
    builder.add_range_static("r", "y", end=end, start=start, step=step)
    out = _predict(builder, {"x": np.zeros(1, np.float32)})
    expected = np.arange(np.float32(start), np.float32(end), np.float32(step))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_range_dynamic_reads_end_start_and_step_from_its_inputs():
    """The first input is the end, the second the start, the third the step; missing ones are the parameters."""
    values = {name: np.array([value], np.float32) for name, value in (("end", 10), ("start", 1), ("step", 2.5))}
    for names, expected in ((["end"], np.arange(4, 10, 2)), (["end", "start"], np.arange(1, 10, 2)),
                            (["end", "start", "step"], np.arange(1, 10, 2.5))):
        builder = _builder({name: (1,) for name in names})
        builder.add_range_dynamic("r", names, "y", start=4, step=2)
        np.testing.assert_allclose(_predict(builder, {name: values[name] for name in names}), expected)


def test_range_dynamic_refuses_examples_with_different_ends():
    builder = _builder({"end": (1,)})
    builder.add_range_dynamic("r", ["end"], "y")
    model = build_model(builder.spec)
    np.testing.assert_array_equal(model.predict_batch({"end": np.array([[3], [3]], np.float32)})["y"],
                                  [[0, 1, 2], [0, 1, 2]])
    with pytest.raises(EngineRuntimeError, match="different range ends"):
        model.predict_batch({"end": np.array([[3], [4]], np.float32)})


def test_reshape_dynamic_takes_the_shape_from_its_second_input():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    builder = _builder({"x": (2, 3, 4), "shape": (2,)})
    builder.add_reshape_dynamic("r", ["x", "shape"], "y")
    model = build_model(builder.spec)
    np.testing.assert_array_equal(model.predict({"x": x, "shape": np.array([4, 6], np.float32)})["y"],
                                  x.reshape(4, 6))
    with pytest.raises(EngineRuntimeError, match="different target shapes"):
        model.predict_batch({"x": np.stack([x, x]), "shape": np.array([[4, 6], [6, 4]], np.float32)})


def test_fill_dynamic_fills_the_shape_its_input_gives():
    builder = _builder({"shape": (3,)})
    builder.add_fill_dynamic("f", "shape", "y", value=2.5)
    out = build_model(builder.spec).predict({"shape": np.array([2, 1, 3], np.float32)})["y"]
    np.testing.assert_array_equal(out, np.full((2, 1, 3), 2.5))


def test_broadcast_to_dynamic_broadcasts_to_the_shape_its_second_input_gives():
    x = np.arange(3, dtype=np.float32).reshape(3, 1)
    builder = _builder({"x": (3, 1), "shape": (3,)})
    builder.add_broadcast_to_dynamic("b", ["x", "shape"], "y")
    out = build_model(builder.spec).predict({"x": x, "shape": np.array([2, 3, 4], np.float32)})["y"]
    np.testing.assert_array_equal(out, np.broadcast_to(x, (2, 3, 4)))


# SliceStaticLayerParams' examples on a (5, 5, 5) input, without and with a squeezed axis.
_SLICE = dict(begin=[1, 2, 3], begin_masks=[True, False, True], end=[3, -3, 2], end_masks=[False, True, True],
              strides=[2, 2, 2])


@pytest.mark.parametrize("squeeze, reference", [
    ([False, False, False], lambda x: x[:3:2, 2::2, ::2]), ([False, True, False], lambda x: x[:3:2, 2, ::2]),
])
def test_slice_dynamic_gives_the_protos_examples_from_parameters_and_from_inputs(squeeze, reference):
    x = np.arange(125, dtype=np.float32).reshape(5, 5, 5)
    builder = _builder({"x": (5, 5, 5), "begin": (3,)})
    builder.add_slice_dynamic("s", ["x", "begin"], "y", end_ids=_SLICE["end"], strides=_SLICE["strides"],
                              begin_masks=_SLICE["begin_masks"], end_masks=_SLICE["end_masks"], squeeze_masks=squeeze)
    out = build_model(builder.spec).predict({"x": x, "begin": np.array(_SLICE["begin"], np.float32)})["y"]
    np.testing.assert_array_equal(out, reference(x))

    names = ["begin", "end", "strides", "begin_masks", "end_masks", "squeeze"]
    given = {**_SLICE, "squeeze": squeeze}
    builder = _builder({"x": (5, 5, 5), **{name: (3,) for name in names}})
    builder.add_slice_dynamic("s", ["x", *names], "y", end_ids=[0, 0, 0], strides=[1, 1, 1])
    out = build_model(builder.spec).predict({"x": x, **{n: np.array(given[n], np.float32) for n in names}})["y"]
    np.testing.assert_array_equal(out, reference(x))


def test_slice_dynamic_supports_negative_indices_and_strides():
    x = np.arange(60, dtype=np.float32).reshape(3, 5, 4)
    builder = _builder({"x": x.shape, "begin": (3,)})
    builder.add_slice_dynamic("s", ["x", "begin"], "y", end_ids=[0, 0, -1], strides=[-1, -2, 1],
                              end_masks=[True, False, False])
    out = build_model(builder.spec).predict({"x": x, "begin": np.array([-1, 4, 1], np.float32)})["y"]
    np.testing.assert_array_equal(out, x[-1::-1, 4:0:-2, 1:-1])


def test_slice_static_keeps_only_the_begin_of_a_squeezed_axis():
    """SliceStaticLayerParams: 'if i-th element of squeezeMasks is set to True, only beginIds[i] would be sliced
    out, and all other masks and inputs are ignored' (input[:3:2, 2, ::2] in the proto's example)."""
    x = np.arange(125, dtype=np.float32).reshape(5, 5, 5)
    builder = _builder({"x": (5, 5, 5)})
    builder.add_slice_static("s", "x", "y", begin_ids=_SLICE["begin"], end_ids=_SLICE["end"],
                             strides=_SLICE["strides"], begin_masks=_SLICE["begin_masks"],
                             end_masks=_SLICE["end_masks"], squeeze_masks=[False, True, False])
    np.testing.assert_array_equal(_predict(builder, {"x": x}), x[:3:2, 2, ::2])


# Pooling3DLayerParams' and GlobalPooling3DLayerParams' example input: two 3x3 slices holding 1..18.
_VOLUME = np.arange(1, 19, dtype=np.float32).reshape(1, 1, 2, 3, 3)


@pytest.mark.parametrize("kind, expected", [("MAX", 18.0), ("AVERAGE", 9.5)])
def test_global_pooling_3d_gives_the_protos_example(kind, expected):
    builder = _builder({"x": _VOLUME.shape})
    builder.add_global_pooling3d("p", "x", "y", kind)
    np.testing.assert_array_equal(_predict(builder, {"x": _VOLUME}), np.full((1, 1, 1, 1, 1), expected))


@pytest.mark.parametrize("kind", ["MAX", "AVERAGE"])
def test_global_pooling_3d_pools_each_channel(kind):
    x = np.random.default_rng(9).normal(size=(2, 3, 4, 5, 6)).astype(np.float32)
    builder = _builder({"x": x.shape})
    builder.add_global_pooling3d("p", "x", "y", kind)
    reduce = np.max if kind == "MAX" else np.mean
    np.testing.assert_allclose(_predict(builder, {"x": x}), reduce(x, axis=(2, 3, 4), keepdims=True), rtol=1e-5)


def _pool3d(builder, kind, kernel, stride, padding="valid", custom=(0, 0, 0, 0, 0, 0), exclude=False):
    front, back, top, bottom, left, right = custom
    builder.add_pooling3d("p", "x", "y", kind, *kernel, *stride, padding_mode=padding, custom_padding_front=front,
                          custom_padding_back=back, custom_padding_top=top, custom_padding_bottom=bottom,
                          custom_padding_left=left, custom_padding_right=right,
                          average_pooling_count_excludes_padding=exclude)


def test_pooling_3d_gives_the_protos_example():
    builder = _builder({"x": _VOLUME.shape})
    _pool3d(builder, "MAX", (2, 2, 2), (1, 1, 1))
    np.testing.assert_array_equal(_predict(builder, {"x": _VOLUME}), [[[[[14, 15], [17, 18]]]]])


def _average_reference(x, kernel, stride, pads, exclude):
    """Average pooling written out window by window: the mean over the zero-padded window, or with ``exclude``
    over the window's input elements only."""
    (front, back), (top, bottom), (left, right) = pads
    padded = np.pad(x, ((0, 0), (0, 0), (front, back), (top, bottom), (left, right)))
    real = np.pad(np.ones_like(x), ((0, 0), (0, 0), (front, back), (top, bottom), (left, right)))
    sizes = [(padded.shape[2 + i] - kernel[i]) // stride[i] + 1 for i in range(3)]
    out = np.zeros(x.shape[:2] + tuple(sizes), np.float64)
    for d, h, w in np.ndindex(*sizes):
        window = tuple(slice(i * s, i * s + k) for i, s, k in zip((d, h, w), stride, kernel))
        total = padded[(..., *window)].sum(axis=(2, 3, 4))
        count = real[(..., *window)].sum(axis=(2, 3, 4)) if exclude else np.prod(kernel)
        out[..., d, h, w] = total / count
    return out


@pytest.mark.parametrize("exclude", [False, True])
@pytest.mark.parametrize("padding, custom, stride, pads", [
    ("valid", (0,) * 6, (2, 1, 2), ((0, 0),) * 3),
    ("custom", (1, 1, 1, 1, 1, 1), (1, 2, 2), ((1, 1),) * 3),
    ("custom", (1, 0, 2, 1, 0, 1), (1, 2, 2), ((1, 0), (2, 1), (0, 1))),
    ("same", (0,) * 6, (1, 1, 1), ((0, 1), (1, 1), (0, 1))),  # kernel (2, 3, 2): the odd extra goes after
])
def test_pooling_3d_averages_over_the_zero_padded_windows(padding, custom, stride, pads, exclude):
    x = np.random.default_rng(10).normal(size=(2, 3, 5, 6, 7)).astype(np.float32)
    builder = _builder({"x": x.shape})
    _pool3d(builder, "AVERAGE", (2, 3, 2), stride, padding, custom, exclude)
    out = _predict(builder, {"x": x})
    np.testing.assert_allclose(out, _average_reference(x, (2, 3, 2), stride, pads, exclude), rtol=1e-5, atol=1e-6)
    if pads in (((0, 0),) * 3, ((1, 1),) * 3):  # padding torch's avg_pool3d can express: a second reference
        reference = F.avg_pool3d(torch.from_numpy(x), (2, 3, 2), stride, padding=pads[0][0],
                                 count_include_pad=not exclude)
        np.testing.assert_allclose(out, reference.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding, kernel, stride", [("valid", (2, 3, 2), (2, 2, 3)), ("same", (1, 1, 1), (1, 1, 1))])
def test_pooling_3d_max_without_padding_is_torchs_max_pool3d(padding, kernel, stride):
    x = np.random.default_rng(11).normal(size=(2, 3, 5, 6, 7)).astype(np.float32)
    builder = _builder({"x": x.shape})
    _pool3d(builder, "MAX", kernel, stride, padding)
    np.testing.assert_array_equal(_predict(builder, {"x": x}),
                                  F.max_pool3d(torch.from_numpy(x), kernel, stride).numpy())


@pytest.mark.parametrize("kind, stride, padding, custom, why", [
    ("MAX", (1, 1, 1), "custom", (1, 1, 0, 0, 0, 0), "zero padding"),
    ("MAX", (1, 1, 1), "same", (0,) * 6, "zero padding"),
    ("AVERAGE", (2, 1, 1), "same", (0,) * 6, "SAME padding keeps the input size"),
])
def test_pooling_3d_refuses_what_the_proto_leaves_ambiguous(kind, stride, padding, custom, why):
    builder = _builder({"x": (1, 1, 4, 4, 4)})
    _pool3d(builder, kind, (2, 2, 2), stride, padding, custom)
    with pytest.raises(UnsupportedModelError, match=why):
        build_model(builder.spec)


def _conv3d(builder, weights, bias, stride=(1, 1, 1), dilation=(1, 1, 1), groups=1, padding="valid",
            custom=(0,) * 6, is_deconv=False):
    out_channels, kernel_channels, *kernel = weights.shape
    front, back, top, bottom, left, right = custom
    builder.add_convolution3d("c", kernel_channels * groups, out_channels, *kernel, weights, bias, bias is not None,
                              groups=groups, stride_depth=stride[0], stride_height=stride[1], stride_width=stride[2],
                              dilation_depth=dilation[0], dilation_height=dilation[1], dilation_width=dilation[2],
                              padding_mode=padding, padding_front=front, padding_back=back, padding_top=top,
                              padding_bottom=bottom, padding_left=left, padding_right=right, is_deconv=is_deconv,
                              input_name="x", output_name="y")


def test_convolution_3d_gives_the_protos_same_padding_example():
    """Input [1, 3, 3, 8, 8], stride 2, kernel 3, 2 output channels, SAME: padding [1, 1, 0, 1, 0, 1] (front,
    back, top, bottom, left, right) and output [1, 2, 2, 4, 4]."""
    rng = np.random.default_rng(12)
    x = rng.normal(size=(1, 3, 3, 8, 8)).astype(np.float32)
    weights, bias = rng.normal(size=(2, 3, 3, 3, 3)).astype(np.float32), rng.normal(size=2).astype(np.float32)
    builder = _builder({"x": x.shape})
    _conv3d(builder, weights, bias, stride=(2, 2, 2), padding="same")
    out = _predict(builder, {"x": x})
    padded = F.pad(torch.from_numpy(x), (0, 1, 0, 1, 1, 1))
    reference = F.conv3d(padded, torch.from_numpy(weights), torch.from_numpy(bias), stride=2)
    assert out.shape == (1, 2, 2, 4, 4)
    np.testing.assert_allclose(out, reference.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding, custom, torch_pad", [
    ("valid", (0,) * 6, (0,) * 6), ("custom", (1, 0, 2, 1, 0, 3), (0, 3, 2, 1, 1, 0)),
])
def test_convolution_3d_with_groups_dilation_and_padding_is_torchs_conv3d(padding, custom, torch_pad):
    rng = np.random.default_rng(13)
    x = rng.normal(size=(2, 4, 6, 7, 8)).astype(np.float32)
    weights = rng.normal(size=(6, 2, 2, 3, 2)).astype(np.float32)  # 4 input channels in 2 groups
    builder = _builder({"x": x.shape})
    _conv3d(builder, weights, None, stride=(1, 2, 3), dilation=(2, 1, 2), groups=2, padding=padding, custom=custom)
    out = _predict(builder, {"x": x})
    reference = F.conv3d(F.pad(torch.from_numpy(x), torch_pad), torch.from_numpy(weights), None, stride=(1, 2, 3),
                         dilation=(2, 1, 2), groups=2)
    np.testing.assert_allclose(out, reference.numpy(), rtol=1e-5, atol=1e-5)


def test_convolution_3d_refuses_deconvolution():
    builder = _builder({"x": (1, 2, 3, 3, 3)})
    _conv3d(builder, np.ones((2, 2, 2, 2, 2), np.float32), None, is_deconv=True)
    with pytest.raises(UnsupportedModelError, match="deconvolution"):
        build_model(builder.spec)


def test_slice_by_size_uses_each_batch_s_shared_begin_and_refuses_examples_that_disagree():
    """SliceBySizeLayerParams: x[:, begin:begin+size] with begin from the second input. The examples computed at once
    share one output, so a batch whose begins differ is refused (it was computed with the first one's begin)."""
    x = np.arange(2 * 6, dtype=np.float32).reshape(2, 6)
    builder = _builder({"x": (2, 6), "begin": (1,)})
    builder.add_slice_by_size("s", ["x", "begin"], "y", axis=1, size=3)
    model = build_model(builder.spec)
    same = model.predict_batch({"x": np.stack([x, x]), "begin": np.array([[2], [2]], np.float32)})["y"]
    np.testing.assert_array_equal(same, np.stack([x[:, 2:5], x[:, 2:5]]))
    with pytest.raises(EngineRuntimeError, match="different begin indices"):
        model.predict_batch({"x": np.stack([x, x]), "begin": np.array([[0], [2]], np.float32)})


@pytest.mark.parametrize(("shape", "axis", "size", "step"), [((7,), 0, 3, 2), ((2, 9, 3), 1, 4, 1), ((2, 9, 3), -2, 2, 3)])
def test_sliding_windows_take_every_step_th_window_along_the_axis(shape, axis, size, step):
    """SlidingWindowsLayerParams: axis 1 of (B1, L, C1) becomes (B1, M, W, C1), M = (L - W) / step + 1; NumPy's
    sliding_window_view, every step-th window, with the window axis moved after the windows."""
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    builder = _builder({"x": shape})
    builder.add_sliding_windows("w", "x", "y", axis=axis, window_size=size, step=step)
    dim = axis % len(shape)
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=dim)
    expected = np.moveaxis(np.take(windows, range(0, windows.shape[dim], step), axis=dim), -1, dim + 1)
    np.testing.assert_array_equal(_predict(builder, {"x": x}), expected)
