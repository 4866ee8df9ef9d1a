"""compare_predictions and random_inputs: what fix and personalization rely on to prove a rewrite harmless."""

from __future__ import annotations

import numpy as np
from PIL import Image

from conftest import FIXTURES, SHARED_MODELS

from mlsurgery.engine import compare_predictions, random_inputs
from mlsurgery.io import load_spec
from mlsurgery.weights import float_values, set_float_values


def _copy(spec):
    copy = type(spec)()
    copy.CopyFrom(spec)
    return copy


def test_a_spec_agrees_with_itself_and_with_an_equivalent_rewrite():
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    assert compare_predictions(spec, _copy(spec)).agree
    # Scaling a layer's weights and bias by 2 and the next layer's weights by ½ changes nothing (ReLU between).
    rewritten = _copy(spec)
    layers = {layer.name: layer for layer in rewritten.neuralNetworkClassifier.layers}
    for field in ("weights", "bias"):
        weights = getattr(layers["dense_1"].innerProduct, field)
        set_float_values(weights, float_values(weights) * 2)
    set_float_values(layers["dense_2"].innerProduct.weights, float_values(layers["dense_2"].innerProduct.weights) / 2)
    comparison = compare_predictions(spec, rewritten, atol=1e-5)
    assert comparison.agree, comparison.detail


def test_a_changed_weight_is_caught_and_named():
    spec = load_spec(FIXTURES / "regressor.mlmodel")
    changed = _copy(spec)
    layer = next(layer for layer in changed.neuralNetworkRegressor.layers if layer.WhichOneof("layer") == "innerProduct")
    values = float_values(layer.innerProduct.weights).copy()
    values[0] += 0.5
    set_float_values(layer.innerProduct.weights, values)
    comparison = compare_predictions(spec, changed)
    assert not comparison.agree
    assert comparison.worst_output == "target" and comparison.max_abs_diff > 1e-3


def test_random_inputs_are_seeded_and_of_the_declared_types():
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    first, again, other = random_inputs(spec, 1, 2), random_inputs(spec, 1, 2), random_inputs(spec, 2, 2)
    assert len(first) == 2 and isinstance(first[0]["image"], Image.Image)
    assert first[0]["image"].size == (227, 227)
    assert np.array_equal(np.asarray(first[1]["image"]), np.asarray(again[1]["image"]))
    assert not np.array_equal(np.asarray(first[0]["image"]), np.asarray(other[0]["image"]))
    arrays = random_inputs(load_spec(FIXTURES / "mnist_mlp.mlmodel"), 0)[0]
    assert arrays["image"].shape == (1, 28, 28) and arrays["image"].dtype == np.float32


def test_inputs_read_by_an_embedding_are_valid_indices():
    spec = load_spec(SHARED_MODELS / "updatable_embedding_concat_regressor.mlmodel")
    sizes = {layer.input[0]: layer.embedding.inputDim for layer in spec.neuralNetwork.layers
             if layer.WhichOneof("layer") == "embedding"}
    for inputs in random_inputs(spec, 0, 20):
        for name, size in sizes.items():
            value = inputs[name]
            assert np.all((value >= 0) & (value < size) & (value == np.round(value)))
