"""MLS100 input-shape-mapping (NeuralNetworkValidator.cpp validateNeuralNetworkTopLevel, Utils.cpp
isIOS12NeuralNetworkLayer).

Upstream test: NNValidatorTests.cpp testInvalidIOS13LayerOldRank.
"""

from rules import general_specs as g


def _with_copy_layer(model):
    """Route the network's output through a copy layer (added in specification version 4)."""
    network = g.network_of(model)
    network.layers[-1].output[0] = "before_copy"
    copy = g.add_layer(network, "copy", ["before_copy"], [model.description.output[0].name])
    copy.copy.SetInParent()
    return model


def rejects_ios13_layer_with_rank5_array_mapping():
    return _with_copy_layer(g.plain_network(version=4))


def rejects_rank5_array_mapping_with_rank4_image_mapping():
    model = g.plain_network(version=4)
    model.neuralNetwork.imageInputShapeMapping = 1  # RANK4_IMAGE_MAPPING
    return model


def rejects_untyped_layer_with_rank5_array_mapping():
    """An unset layer type is not an iOS 12 layer either, so this check fires before MLS115."""
    model = g.plain_network()
    g.layer_named(model, "relu").ClearField("activation")
    return model


def accepts_ios13_layer_with_exact_array_mapping():
    model = _with_copy_layer(g.plain_network(version=4))
    model.neuralNetwork.arrayInputShapeMapping = 1  # EXACT_ARRAY_MAPPING
    return model


def accepts_ios13_layer_with_image_input_only():
    return _with_copy_layer(g.conv_network(version=4, image_input=True))
