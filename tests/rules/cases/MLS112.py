"""MLS112 weights-missing (NeuralNetworkLayerValidator.cpp).

Upstream tests: NNValidatorTests.cpp testInvalidConvolutionNoWeights, testInvalidConvolutionNoBias.
"""

from rules import general_specs as g


def rejects_convolution_without_weights():
    model = g.conv_network()
    g.layer_named(model, "conv").convolution.weights.Clear()
    return model


def rejects_convolution_with_has_bias_but_no_bias():
    model = g.conv_network()
    g.layer_named(model, "conv").convolution.bias.Clear()
    return model


def rejects_batchnorm_without_mean_and_variance():
    model = g.plain_network()
    layer = g.layer_named(model, "relu")
    layer.ClearField("activation")
    params = layer.batchnorm
    params.channels = 3
    params.gamma.floatValue.extend([1.0] * 3)
    params.beta.floatValue.extend([0.0] * 3)
    return model


def accepts_inner_product_with_empty_weights():
    """Upstream quirk: innerProduct checks the count only of fp32/fp16/quantized weights; empty ones pass."""
    model = g.plain_network()
    g.layer_named(model, "dense").innerProduct.weights.Clear()
    return model


def accepts_batchnorm_computing_mean_and_variance():
    model = rejects_batchnorm_without_mean_and_variance()
    g.layer_named(model, "relu").batchnorm.computeMeanVar = True
    return model
