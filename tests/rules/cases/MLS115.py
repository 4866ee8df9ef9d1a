"""MLS115 unsupported-layer (NeuralNetworkValidator.cpp validateFailUnknownType, validateActivationParams)."""

from rules import general_specs as g


def rejects_layer_without_type():
    # An image input: with a multi-array input and RANK5 mapping the untyped layer trips MLS100 first.
    model = g.conv_network(image_input=True)
    g.layer_named(model, "relu").ClearField("activation")
    return model


def rejects_activation_without_nonlinearity():
    model = g.plain_network()
    g.layer_named(model, "relu").activation.ClearField("ReLU")
    return model


def accepts_every_classic_activation_kind():
    model = g.plain_network()
    g.layer_named(model, "relu").activation.leakyReLU.alpha = 0.1
    return model
