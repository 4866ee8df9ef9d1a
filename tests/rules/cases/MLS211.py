"""MLS211 unknown-optimizer."""

from rules import specs


def bad_no_optimizer():
    model = specs.valid_updatable_network()
    model.neuralNetwork.updateParams.ClearField("optimizer")
    return model


def good_adam():
    model = bad_no_optimizer()
    network = model.neuralNetwork
    specs.add_learning_rate(network, specs.ADAM)
    specs.add_mini_batch_size(network, specs.ADAM)
    specs.add_beta1(network)
    specs.add_beta2(network)
    specs.add_eps(network)
    return model
