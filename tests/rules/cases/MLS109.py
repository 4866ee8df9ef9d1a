"""MLS109 layer-rank (NeuralNetworkValidatorUtils.hpp checkRank, validateRankCount, rank equality).

Upstream tests: NNValidatorTests.cpp testInvalidSoftmax2, testInvalidPoolingRank1.
"""

from rules import general_specs as g


def _softmax_network(rank):
    model = g.nd_network()
    network = model.neuralNetwork
    del network.layers[:]
    shape = [1] * (rank - 1) + [4]
    model.description.input[0].type.multiArrayType.shape[:] = shape
    model.description.output[0].type.multiArrayType.shape[:] = shape
    softmax = g.add_layer(network, "softmax", ["x"], ["y"])
    softmax.softmax.SetInParent()
    return model


def rejects_softmax_on_rank1_input():
    return _softmax_network(rank=1)


def rejects_output_rank_unlike_input_rank():
    model = _softmax_network(rank=3)
    model.description.output[0].type.multiArrayType.shape[:] = [1, 1, 1, 4]
    return model


def accepts_softmax_on_rank3_input():
    return _softmax_network(rank=3)
