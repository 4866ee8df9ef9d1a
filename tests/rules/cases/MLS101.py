"""MLS101 no-layers (NeuralNetworkValidator.cpp validateNeuralNetworkTopLevel)."""

from rules import general_specs as g


def rejects_network_without_layers():
    model = g.plain_network()
    del model.neuralNetwork.layers[:]
    return model


def accepts_single_layer_network():
    model = g.plain_network()
    del model.neuralNetwork.layers[1]
    model.neuralNetwork.layers[0].output[0] = "y"
    return model
