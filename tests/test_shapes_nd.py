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
