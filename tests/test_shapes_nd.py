"""Exact blob shapes, against PyTorch: a converted model's output has the shape the PyTorch model returns."""

import numpy as np
import pytest

from conftest import FIXTURES
from mlsurgery.network import trainable_network
from mlsurgery.io import load_spec
from mlsurgery.shapes.nd import blob_shapes, feature_shape
from pytorch_models import MODELS, converted, torch_output


@pytest.mark.parametrize("name", MODELS)
def test_output_shape_is_what_pytorch_returns(name):
    module, shape, spec = converted(name)
    location = trainable_network(spec)
    shapes = blob_shapes(location.model, location.network)
    expected = torch_output(module, np.zeros(shape, dtype=np.float32)).shape
    assert shapes[spec.description.output[0].name] == tuple(expected)


def test_rank5_network_maps_inputs_and_layers_to_five_axes():
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    location = trainable_network(spec)
    shapes = blob_shapes(location.model, location.network)
    image = spec.description.input[0].type.imageType
    assert shapes[spec.description.input[0].name] == (1, 1, 3, image.height, image.width)
    assert shapes["labelProbability"] == (1, 1, 3, 1, 1)


def test_feature_shape_of_rank5_blobs_is_c_h_w_or_c():
    assert feature_shape((1, 1, 1, 1, 100), exact_ranks=False) == [1, 1, 100]
    assert feature_shape((1, 1, 10, 1, 1), exact_ranks=False) == [10]
    assert feature_shape((1, 10), exact_ranks=True) == [1, 10]


@pytest.mark.parametrize("sequence_output", [True, False])
def test_bidirectional_lstm_outputs_follow_the_proto(sequence_output):
    """NeuralNetwork.proto: a recurrent layer reads [Seq, Batch, C, 1, 1]; output 0 is [Seq, Batch, 2·H, 1, 1] for a
    biDirectionalLSTM with sequenceOutput ([1, Batch, 2·H, 1, 1] without), each state [1, Batch, H, 1, 1]."""
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    steps, features, hidden = 7, 3, 5
    builder = NeuralNetworkBuilder([("x", datatypes.Array(steps, 1, features))], [("y", None)],
                                   disable_rank5_shape_mapping=True)
    builder.add_expand_dims("to_rank5", "x", "x5", axes=[-1, -2])
    rng = np.random.default_rng(0)

    def gates(*shape):
        return [rng.normal(size=shape).astype(np.float32) for _ in range(4)]

    builder.add_bidirlstm("rnn", gates(hidden, hidden), gates(hidden, features), gates(hidden),
                          gates(hidden, hidden), gates(hidden, features), gates(hidden), hidden, features,
                          ["x5"], ["y", "hf", "cf", "hb", "cb"], output_all=sequence_output)
    shapes = blob_shapes(builder.spec, builder.spec.neuralNetwork)
    assert shapes["y"] == (steps if sequence_output else 1, 1, 2 * hidden, 1, 1)
    assert [shapes[state] for state in ("hf", "cf", "hb", "cb")] == [(1, 1, hidden, 1, 1)] * 4


def test_expand_dims_naming_an_axis_twice_has_an_unknown_shape_and_validates_without_a_crash():
    """An expandDims whose axes repeat (Core ML rejects it) used to end in a StopIteration inside the shape
    inference that the fixable rules run: ``validate`` must report, not crash."""
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    from mlsurgery.validate import validate_spec

    builder = NeuralNetworkBuilder([("x", datatypes.Array(3, 4))], [("y", None)], disable_rank5_shape_mapping=True)
    builder.add_expand_dims("expand", "x", "y", axes=[0, 0])
    spec = builder.spec
    assert blob_shapes(spec, spec.neuralNetwork)["y"] is None
    assert validate_spec(spec) is not None


A, B, W = (2, 1, 5), (3, 1), (2, 3, 5)  # two inputs that broadcast, and the shape of a third for where

# Each layer kind, how the builder adds it (inputs a, b, w), and the NumPy operation it performs: the shape NumPy
# returns is the reference (NeuralNetwork.proto: "Output shape is same as the input" or "Broadcasting is supported").
ELEMENTWISE = {
    "equal": (lambda b: b.add_equal("op", ["a", "b"], "out"), lambda a, b, w: np.equal(a, b)),
    "greaterThan": (lambda b: b.add_greater_than("op", ["a", "b"], "out"), lambda a, b, w: a > b),
    "logicalXor": (lambda b: b.add_logical("op", ["a", "b"], "out", "XOR"), lambda a, b, w: np.logical_xor(a, b)),
    "floorDivBroadcastable": (lambda b: b.add_floor_div_broadcastable("op", ["a", "b"], "out"),
                              lambda a, b, w: np.floor_divide(a, b + 2)),
    "modBroadcastable": (lambda b: b.add_mod_broadcastable("op", ["a", "b"], "out"), lambda a, b, w: np.mod(a, b + 2)),
    "whereBroadcastable": (lambda b: b.add_where_broadcastable("op", ["a", "b", "w"], "out"),
                           lambda a, b, w: np.where(a > 0, b, w)),
    "scale": (lambda b: b.add_scale("op", np.ones(2, np.float32), None, False, "w", "out", shape_scale=[2, 1, 1]),
              lambda a, b, w: w * np.ones((2, 1, 1))),
    "reverse": (lambda b: b.add_reverse("op", "w", "out", reverse_dim=[True, False, True]),
                lambda a, b, w: np.flip(w, (0, 2))),
    "cumSum": (lambda b: b.add_cumsum("op", ["w"], "out", axis=1), lambda a, b, w: np.cumsum(w, axis=1)),
    "argSort": (lambda b: b.add_argsort("op", "w", "out", axis=2), lambda a, b, w: np.argsort(w, axis=2)),
    "lowerTriangular": (lambda b: b.add_lower_triangular("op", "w", "out"), lambda a, b, w: np.tril(w)),
    "matrixBandPart": (lambda b: b.add_matrix_band_part("op", "w", "out", 1, 1),
                       lambda a, b, w: np.triu(np.tril(w, 1), -1)),
    "clampedReLU": (lambda b: b.add_clamped_relu("op", "w", "out"), lambda a, b, w: np.clip(w, 0, 6)),
    "layerNormalization": (lambda b: b.add_layer_normalization("op", "w", "out", [5], np.ones(5), np.zeros(5)),
                           lambda a, b, w: (w - w.mean(-1, keepdims=True)) / (w.std(-1, keepdims=True) + 1e-5)),
}


@pytest.mark.parametrize("kind", sorted(ELEMENTWISE))
def test_elementwise_and_broadcasting_layers_have_the_shape_numpy_returns(kind):
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    add, numpy_op = ELEMENTWISE[kind]
    builder = NeuralNetworkBuilder([(name, datatypes.Array(*shape)) for name, shape in zip("abw", (A, B, W))],
                                   [("out", None)], disable_rank5_shape_mapping=True)
    add(builder)
    assert builder.spec.neuralNetwork.layers[0].WhichOneof("layer") == kind
    shapes = blob_shapes(builder.spec, builder.spec.neuralNetwork)
    rng = np.random.default_rng(0)
    a, b, w = (rng.standard_normal(shape) for shape in (A, B, W))
    assert shapes["out"] == numpy_op(a, b, w).shape


X = (2, 6, 4, 8)  # the data input of every case below; other inputs are named per case
RNG = np.random.default_rng(0)


def _torch(function, x, **kwargs):
    import torch

    return function(torch.from_numpy(x), **kwargs).numpy()


def _interpolate(x, size):
    import torch.nn.functional as F

    return _torch(F.interpolate, x, size=size, mode="bilinear", align_corners=True)


def _pixel(function_name, x, block):
    import torch.nn.functional as F

    return _torch(getattr(F, function_name), x, **{"downscale_factor" if "un" in function_name else "upscale_factor":
                                                    block})


# Each case: extra inputs (name → shape, values for NumPy), how the builder adds the layer reading "x" (and those)
# and writing "out" (or the outputs named), and the NumPy (or PyTorch) computation whose result shapes are the
# reference. Semantics from NeuralNetwork.proto's comment on each layer's parameters.
SHAPE_CASES = {
    "padding": ({}, lambda b: b.add_padding("op", left=1, right=2, top=3, bottom=0, input_name="x", output_name="out"),
                lambda x: np.pad(x, [(0, 0), (0, 0), (3, 0), (1, 2)])),
    "crop": ({}, lambda b: b.add_crop("op", 1, 2, 1, 0, [], ["x"], "out"), lambda x: x[..., 1:, 1:-2]),
    "crop-like": ({"r": np.zeros((2, 6, 2, 3))}, lambda b: b.add_crop("op", 0, 0, 0, 0, [1, 2], ["x", "r"], "out"),
                  lambda x, r: x[..., 1:3, 2:5]),
    "resizeBilinear": ({}, lambda b: b.add_resize_bilinear("op", "x", "out", 7, 3), lambda x: _interpolate(x, (7, 3))),
    "reduce": ({}, lambda b: b.add_reduce("op", "x", "out", "HW", "avg"),
               lambda x: x.mean(axis=(-2, -1), keepdims=True)),
    "reduce-C": ({}, lambda b: b.add_reduce("op", "x", "out", "C", "max"), lambda x: x.max(axis=-3, keepdims=True)),
    "reduceSum": ({}, lambda b: b.add_reduce_sum("op", "x", "out", axes=[1, -1], keepdims=False),
                  lambda x: x.sum(axis=(1, -1))),
    "reduceMean-keep": ({}, lambda b: b.add_reduce_mean("op", "x", "out", axes=[2]),
                        lambda x: x.mean(axis=2, keepdims=True)),
    # Core ML has no rank-0 tensors: a full reduction is [1].
    "reduceMean-all": ({}, lambda b: b.add_reduce_mean("op", "x", "out", keepdims=False, reduce_all=True),
                       lambda x: np.atleast_1d(x.mean())),
    "argMax": ({}, lambda b: b.add_argmax("op", "x", "out", axis=-2, keepdims=False), lambda x: x.argmax(-2)),
    "argMin": ({}, lambda b: b.add_argmin("op", "x", "out", axis=1), lambda x: x.argmin(1)[:, None]),
    "topK": ({}, lambda b: b.add_topk("op", ["x"], ["out", "indices"], k=3, axis=1),
             lambda x: (np.sort(x, axis=1)[:, -3:], np.argsort(x, axis=1)[:, -3:])),
    "split": ({}, lambda b: b.add_split("op", "x", ["out", "b", "c"]), lambda x: tuple(np.split(x, 3, axis=-3))),
    "splitND": ({}, lambda b: b.add_split_nd("op", "x", ["out", "b"], axis=-1, split_sizes=[3, 5]),
                lambda x: tuple(np.split(x, [3], axis=-1))),
    "constantPad": ({}, lambda b: b.add_constant_pad("op", ["x"], "out", pad_amounts=[0, 0, 1, 2, 0, 0, 3, 0]),
                    lambda x: np.pad(x, [(0, 0), (1, 2), (0, 0), (3, 0)])),
    "constantPad-to-size": ({}, lambda b: b.add_constant_pad("op", ["x"], "out", pad_to_given_output_size_mode=True,
                                                             pad_amounts=[0, 0, 0, 9, 0, 0, 11, 0]),
                            lambda x: np.pad(x, [(0, 0), (0, 3), (0, 0), (3, 0)])),
    "reorganizeData": ({}, lambda b: b.add_reorganize_data("op", "x", "out", "SPACE_TO_DEPTH", 2),
                       lambda x: _pixel("pixel_unshuffle", x, 2)),
    "reorganizeData-to-space": ({"x": np.zeros((2, 8, 4, 8), np.float32)},
                                lambda b: b.add_reorganize_data("op", "x", "out", "PIXEL_SHUFFLE", 2),
                                lambda x: _pixel("pixel_shuffle", x, 2)),
    "tile": ({}, lambda b: b.add_tile("op", "x", "out", reps=[2, 3]), lambda x: np.tile(x, (2, 3))),
    "stack": ({"y": np.zeros(X)}, lambda b: b.add_stack("op", ["x", "y"], "out", axis=-2),
              lambda x, y: np.stack([x, y], axis=-2)),
    "gather": ({"i": np.zeros((3, 5), int)}, lambda b: b.add_gather("op", ["x", "i"], "out", axis=1),
               lambda x, i: np.take(x, i, axis=1)),
    "gatherAlongAxis": ({"i": np.zeros((2, 6, 9, 8), int)},
                        lambda b: b.add_gather_along_axis("op", ["x", "i"], "out", axis=2),
                        lambda x, i: np.take_along_axis(x, i, axis=2)),
    "gatherND": ({"i": np.zeros((5, 2), int)}, lambda b: b.add_gather_nd("op", ["x", "i"], "out"),
                 lambda x, i: x[tuple(i.T)]),
    "sliceBySize": ({"begin": np.ones(1, int)}, lambda b: b.add_slice_by_size("op", ["x", "begin"], "out", 2, 3),
                    lambda x, begin: x[:, :, 1:4]),
    "broadcastToStatic": ({}, lambda b: b.add_broadcast_to_static("op", "x", "out", [3, 2, 6, 4, 8]),
                          lambda x: np.broadcast_to(x, (3,) + X)),
    "broadcastToLike": ({"y": np.zeros((3, 2, 6, 4, 8))}, lambda b: b.add_broadcast_to_like("op", ["x", "y"], "out"),
                        lambda x, y: np.broadcast_to(x, y.shape)),
    "oneHot": ({}, lambda b: b.add_one_hot("op", ["x"], "out", one_hot_vector_size=5, axis=1),
               lambda x: np.moveaxis(np.eye(5)[np.zeros(X, int)], -1, 1)),
    "rankPreservingReshape": ({}, lambda b: b.add_rank_preserving_reshape("op", "x", "out", [0, -1, 2, 8]),
                              lambda x: x.reshape(2, -1, 2, 8)),
    "getShape": ({}, lambda b: b.add_get_shape("op", "x", "out"), lambda x: np.array(x.shape)),
    "reshapeLike": ({"y": np.zeros((12, 32))}, lambda b: b.add_reshape_like("op", ["x", "y"], "out"),
                    lambda x, y: x.reshape(y.shape)),
    "fillLike": ({}, lambda b: b.add_fill_like("op", "x", "out"), lambda x: np.full_like(x, 0.0)),
    "scatter": ({"i": np.zeros(3, int), "u": np.zeros((2, 3, 4, 8))},
                lambda b: b.add_scatter("op", ["x", "i", "u"], "out", axis=1), lambda x, i, u: _put(x, (slice(None), i), u)),
    "scatterND": ({"i": np.zeros((4, 2), int), "u": np.zeros((4, 4, 8))},
                  lambda b: b.add_scatter_nd("op", ["x", "i", "u"], "out"), lambda x, i, u: _put(x, tuple(i.T), u)),
    "embeddingND": ({"x": np.zeros((5, 1))},
                    lambda b: b.add_embedding_nd("op", "x", "out", 10, 7, np.zeros((7, 10), np.float32)),
                    lambda x: np.zeros((7, 10)).T[x[..., 0].astype(int)]),
    "globalPooling3d": ({"x": np.zeros((2, 3, 4, 5, 6))}, lambda b: b.add_global_pooling3d("op", "x", "out", "MAX"),
                        lambda x: x.max(axis=(2, 3, 4), keepdims=True)),
    "sequenceRepeat": ({"x": np.zeros((2, 1, 3, 4, 5))}, lambda b: b.add_sequence_repeat("op", 3, "x", "out"),
                       lambda x: np.tile(x, (3, 1, 1, 1, 1))),
    "fillStatic": ({}, lambda b: b.add_fill_static("op", "out", [3, 4]), lambda x: np.full((3, 4), 0.0)),
    "randomNormalStatic": ({}, lambda b: b.add_random_normal_static("op", "out", [2, 5]),
                           lambda x: RNG.normal(size=(2, 5))),
}


def _put(container, where, updates):
    out = container.copy()
    out[where] = updates
    return out


@pytest.mark.parametrize("case", sorted(SHAPE_CASES))
def test_layers_have_the_shapes_numpy_or_pytorch_compute(case):
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    extra, add, reference = SHAPE_CASES[case]
    arrays = {"x": RNG.standard_normal(X).astype(np.float32), **extra}
    builder = NeuralNetworkBuilder([(name, datatypes.Array(*array.shape)) for name, array in arrays.items()],
                                   [("out", None)], disable_rank5_shape_mapping=True)
    add(builder)
    layer = builder.spec.neuralNetwork.layers[0]
    assert layer.WhichOneof("layer") == case.split("-")[0]
    expected = reference(*arrays.values()) if layer.input else reference(arrays["x"])
    expected = expected if isinstance(expected, tuple) else (expected,)
    shapes = blob_shapes(builder.spec, builder.spec.neuralNetwork)
    assert [shapes[name] for name in layer.output] == [np.shape(value) for value in expected]
