"""MLS216 parameter-range-not-positive."""

from rules import specs


def bad_epochs_range_from_zero():
    model = specs.valid_updatable_network()
    specs.add_epochs(model.neuralNetwork, 10, 0, 100)
    return model


def good_seed_range_below_zero():
    model = specs.valid_updatable_network()
    specs.add_shuffle_and_seed(model.neuralNetwork, 0, -5, 5)
    return model
