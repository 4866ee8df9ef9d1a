"""MLS210 optimizer-parameter-missing."""

from rules import specs


def bad_sgd_without_mini_batch_size():
    model = specs.valid_updatable_network()
    model.neuralNetwork.updateParams.optimizer.sgdOptimizer.ClearField("miniBatchSize")
    return model


def bad_adam_without_eps():
    model = specs.valid_updatable_network()
    network = model.neuralNetwork
    network.updateParams.ClearField("optimizer")
    specs.add_learning_rate(network, specs.ADAM)
    specs.add_mini_batch_size(network, specs.ADAM)
    specs.add_beta1(network)
    specs.add_beta2(network)
    return model


def good_sgd_without_momentum():
    return specs.valid_updatable_network()
