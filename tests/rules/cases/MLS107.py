"""MLS107 layer-tensor-ranks (NeuralNetworkValidator.cpp validateNeuralNetwork, validateTensorMessage).

Upstream test: NNValidatorTests.cpp testInvalidRankInconsistency.
"""

from rules import general_specs as g


def _with_tensors(model, input_rank=2, output_rank=2):
    layer = model.neuralNetwork.layers[0]
    layer.inputTensor.add().rank = input_rank
    layer.outputTensor.add().rank = output_rank
    return model


def rejects_input_tensor_rank_unlike_model_input():
    return _with_tensors(g.nd_network(), input_rank=3)


def rejects_more_tensors_than_inputs():
    model = _with_tensors(g.nd_network())
    model.neuralNetwork.layers[0].inputTensor.add().rank = 2
    return model


def rejects_dim_value_length_unlike_rank():
    model = _with_tensors(g.nd_network())
    model.neuralNetwork.layers[0].inputTensor[0].dimValue.extend([2, 4, 1])
    return model


def accepts_matching_tensors():
    model = _with_tensors(g.nd_network())
    model.neuralNetwork.layers[0].inputTensor[0].dimValue.extend([2, 4])
    return model


def accepts_tensor_messages_ignored_with_rank5_mapping():
    model = g.plain_network()
    model.neuralNetwork.layers[0].inputTensor.add().rank = 7
    return model
