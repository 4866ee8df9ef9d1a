"""MLS103 input-array-rank (NeuralNetworkValidator.cpp validateNeuralNetworkTopLevel).

Upstream test: NNValidatorTests.cpp testNNValidatorBadInput (a rank-2 input under rank-5 mapping).
"""

from rules import general_specs as g


def rejects_rank2_input_with_rank5_mapping():
    model = g.plain_network()
    array = model.description.input[0].type.multiArrayType
    array.shape[:] = [2, 2]
    model.neuralNetwork.layers[0].innerProduct.inputChannels = 4
    return model


def rejects_exact_mapping_input_with_only_enumerated_shapes():
    model = g.nd_network(version=4)
    array = model.description.input[0].type.multiArrayType
    array.enumeratedShapes.shapes.add().shape.extend([2, 4])
    del array.shape[:]
    return model


def accepts_rank3_input():
    return g.conv_network()


def accepts_rank2_input_with_exact_mapping():
    return g.nd_network()
