"""MLS111 weight-precision (NeuralNetworkLayerValidator.cpp; ValidatorUtils-inl.hpp valueType)."""

import numpy as np

from rules import general_specs as g


def _to_fp16(weights):
    values = np.array(weights.floatValue, dtype=np.float16)
    weights.ClearField("floatValue")
    weights.float16Value = values.tobytes()


def rejects_fp16_weights_with_fp32_bias():
    model = g.plain_network(version=2)
    _to_fp16(g.layer_named(model, "dense").innerProduct.weights)
    return model


def rejects_weights_in_two_value_fields():
    model = g.conv_network()
    weights = g.layer_named(model, "conv").convolution.weights
    weights.float16Value = np.array(weights.floatValue, dtype=np.float16).tobytes()
    return model


def accepts_fp16_weights_and_bias():
    model = g.plain_network(version=2)
    params = g.layer_named(model, "dense").innerProduct
    _to_fp16(params.weights)
    _to_fp16(params.bias)
    return model
