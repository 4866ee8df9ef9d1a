"""MLS203 parameters-not-marked-updatable."""

from rules import specs


def bad_bias_not_marked():
    model = specs.valid_updatable_network()
    model.neuralNetwork.layers[0].innerProduct.bias.isUpdatable = False
    return model


def bad_weights_not_marked():
    model = specs.valid_updatable_network()
    model.neuralNetwork.layers[0].innerProduct.weights.isUpdatable = False
    return model


def good_unmarked_bias_ignored_without_has_bias():
    model = bad_bias_not_marked()
    model.neuralNetwork.layers[0].innerProduct.hasBias = False
    model.neuralNetwork.layers[0].innerProduct.ClearField("bias")
    return model
