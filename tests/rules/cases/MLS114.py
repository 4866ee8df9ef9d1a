"""MLS114 layer-parameters (NeuralNetworkLayerValidator.cpp).

Upstream tests: NNValidatorTests.cpp testInvalidConvolutionNoPadding, testInvalidPooling, testNNValidatorReshapeBad,
testInvalidPaddingNoType, testInvalidUpsample, testInvalidCustomNoName, testInvalidCopy.
"""

from rules import general_specs as g


def rejects_convolution_without_padding_type():
    model = g.conv_network()
    g.layer_named(model, "conv").convolution.ClearField("same")
    return model


def rejects_pooling_without_padding_type():
    model = g.conv_network()
    g.layer_named(model, "pool").pooling.ClearField("valid")
    return model


def rejects_two_dimensional_reshape_target():
    model = g.conv_network()
    layer = g.layer_named(model, "flatten")
    layer.ClearField("flatten")
    layer.reshape.targetShape.extend([4, 1])
    return model


def rejects_three_upsampling_factors():
    model = g.conv_network()
    layer = g.layer_named(model, "relu")
    layer.ClearField("activation")
    layer.upsample.scalingFactor.extend([1, 1, 1])
    return model


def rejects_custom_layer_without_class_name():
    model = g.plain_network(version=2)
    layer = g.layer_named(model, "relu")
    layer.ClearField("activation")
    layer.custom.SetInParent()
    return model


def accepts_reshape_to_three_dimensions():
    model = g.conv_network()
    layer = g.layer_named(model, "flatten")
    layer.ClearField("flatten")
    layer.reshape.targetShape.extend([4, 1, 1])
    return model


def accepts_custom_layer_with_class_name():
    model = rejects_custom_layer_without_class_name()
    g.layer_named(model, "relu").custom.className = "MyRelu"
    return model
