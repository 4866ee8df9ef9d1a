"""MLS113 quantized-weights (QuantizationValidationUtils.cpp, ValidatorUtils-inl.hpp validateInt8Requirements).

Upstream test: NNValidatorTests.cpp testInnerProductDynamicQuantizationConversionParameterValidation.
"""

from rules import general_specs as g


def _quantize(weights, count, bits=8, scales=1):
    weights.ClearField("floatValue")
    weights.quantization.numberOfBits = bits
    weights.quantization.linearQuantization.scale.extend([0.5] * scales)
    weights.rawValue = bytes((count * bits + 7) // 8)


def rejects_too_few_quantized_bytes():
    model = g.plain_network()
    weights = g.layer_named(model, "dense").innerProduct.weights
    _quantize(weights, 12)
    weights.rawValue = weights.rawValue[:-1]
    return model


def rejects_nine_bit_quantization():
    model = g.plain_network()
    _quantize(g.layer_named(model, "dense").innerProduct.weights, 12, bits=9)
    return model


def rejects_two_scales_for_three_outputs():
    model = g.plain_network()
    _quantize(g.layer_named(model, "dense").innerProduct.weights, 12, scales=2)
    return model


def rejects_dynamic_int8_with_fp32_weights():
    model = g.plain_network(version=4)
    model.neuralNetwork.arrayInputShapeMapping = 1
    g.layer_named(model, "dense").innerProduct.int8DynamicQuantize = True
    return model


def accepts_8bit_linear_quantization():
    model = g.plain_network()
    _quantize(g.layer_named(model, "dense").innerProduct.weights, 12)
    return model


def accepts_per_channel_scales():
    model = g.plain_network()
    _quantize(g.layer_named(model, "dense").innerProduct.weights, 12, scales=3)
    return model
