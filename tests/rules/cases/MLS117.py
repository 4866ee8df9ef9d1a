"""MLS117 duplicate-output-blob (NeuralNetworkValidator.cpp validateNeuralNetwork)."""

from rules import general_specs as g


def rejects_layer_writing_a_model_input():
    model = g.plain_network()
    g.layer_named(model, "relu").output[0] = "x"
    return model


def rejects_two_layers_writing_one_blob():
    model = g.plain_network()
    g.layer_named(model, "relu").output[0] = "hidden"
    return model


def accepts_copy_layer_overwriting_a_blob():
    model = g.nd_network()
    copy = g.add_layer(model.neuralNetwork, "copy", ["y"], ["x"])
    copy.copy.SetInParent()
    return model
