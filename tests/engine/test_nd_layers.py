"""N-D layers (exact-rank networks) built with coremltools' NeuralNetworkBuilder and checked against NumPy written
from NeuralNetwork.proto's descriptions."""

from __future__ import annotations

import numpy as np
import pytest

from mlsurgery.engine import build_model

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
