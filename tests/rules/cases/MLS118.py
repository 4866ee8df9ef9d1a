"""MLS118 control-flow (NeuralNetworkLayerValidator.cpp validateBranchLayer, validateLoopLayer, loop break/continue).

Upstream tests: NNValidatorTests.cpp testValidBranch, testInvalidLoopBreak, testInvalidLoop1.
"""

from mlsurgery._proto import model_pb2
from rules import general_specs as g


def _branching_network():
    """``testValidBranch``: relu A → cond; branch on cond, both branches write B with a relu of A."""
    model = model_pb2().Model()
    model.specificationVersion = 4
    g.array_feature(model.description.input, "A", [1])
    g.array_feature(model.description.output, "B", [1])
    network = model.neuralNetwork
    network.arrayInputShapeMapping = 1
    g.activation(network, "condition_producing_layer", "A", "cond")
    branch = g.add_layer(network, "branch_layer", ["cond"], [])
    g.activation(branch.branch.ifBranch, "if_relu", "A", "B")
    g.activation(branch.branch.elseBranch, "else_relu", "A", "B")
    return model


def rejects_empty_if_branch():
    model = _branching_network()
    del model.neuralNetwork.layers[1].branch.ifBranch.layers[:]
    return model


def rejects_loop_break_outside_a_loop():
    model = _branching_network()
    loop_break = g.add_layer(model.neuralNetwork, "break", [], [])
    loop_break.loopBreak.SetInParent()
    return model


def rejects_loop_with_empty_body():
    model = _branching_network()
    loop = g.add_layer(model.neuralNetwork, "loop", [], [])
    loop.loop.maxLoopIterations = 2
    return model


def accepts_branch_writing_the_output_on_both_sides():
    return _branching_network()
