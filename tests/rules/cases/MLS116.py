"""MLS116 missing-input-blob (NeuralNetworkValidator.cpp validateNeuralNetwork).

Upstream tests: NNValidatorTests.cpp testNNValidatorMissingInput, testNNMissingLayer.
"""

from rules import general_specs as g


def rejects_layer_reading_unknown_blob():
    model = g.plain_network()
    g.layer_named(model, "relu").input[0] = "hiden"
    return model


def rejects_deleted_middle_layer():
    model = g.conv_network()
    network = model.neuralNetwork
    del network.layers[1]
    return model


def rejects_consumer_before_producer():
    model = g.plain_network()
    layers = model.neuralNetwork.layers
    first, second = layers[0].SerializeToString(), layers[1].SerializeToString()
    layers[0].ParseFromString(second)
    layers[1].ParseFromString(first)
    return model


def accepts_layers_in_order():
    return g.plain_network()
