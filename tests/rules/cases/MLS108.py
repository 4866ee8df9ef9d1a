"""MLS108 layer-input-output-count (NeuralNetworkValidatorUtils.hpp validateInputCount / validateOutputCount)."""

from rules import general_specs as g


def rejects_inner_product_with_two_inputs():
    model = g.plain_network()
    model.neuralNetwork.layers[0].input.append("x")
    return model


def rejects_concat_with_one_input():
    model = g.plain_network()
    layer = g.layer_named(model, "relu")
    layer.ClearField("activation")
    layer.concat.SetInParent()
    return model


def rejects_lstm_with_one_output():
    model = g.plain_network()
    layer = g.layer_named(model, "relu")
    layer.ClearField("activation")
    layer.uniDirectionalLSTM.SetInParent()
    return model


def accepts_add_with_three_inputs():
    model = g.plain_network()
    network = model.neuralNetwork
    network.layers[1].output[0] = "relu"
    add = g.add_layer(network, "sum", ["relu", "relu", "relu"], ["y"])
    add.add.SetInParent()
    return model
