"""MLS213 parameter-default-not-positive."""

from rules import specs


def bad_epochs_default_zero():
    model = specs.valid_updatable_network()
    specs.add_epochs(model.neuralNetwork, 0, 0, 10)
    return model


def bad_mini_batch_default_negative():
    model = specs.valid_updatable_network()
    specs.add_mini_batch_size(model.neuralNetwork, specs.SGD, -1, 1, 10)
    return model


def good_seed_default_zero():
    model = specs.valid_updatable_network()
    specs.add_shuffle_and_seed(model.neuralNetwork, 0, 0, 10)
    return model
