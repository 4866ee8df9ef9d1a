"""MLS215 parameter-default-not-in-set."""

from rules import specs


def bad_mini_batch_default_not_allowed():
    model = specs.valid_updatable_network()
    specs.add_mini_batch_size(model.neuralNetwork, specs.SGD, 12, 0, 0, allowed=(8, 16))
    return model


def good_mini_batch_default_allowed():
    model = specs.valid_updatable_network()
    specs.add_mini_batch_size(model.neuralNetwork, specs.SGD, 16, 0, 0, allowed=(8, 16))
    return model
