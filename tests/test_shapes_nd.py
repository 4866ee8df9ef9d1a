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
