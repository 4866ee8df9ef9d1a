"""MLS217 parameter-default-out-of-range."""

from rules import specs


def bad_learning_rate_above_range():
    model = specs.valid_updatable_network()
    specs.add_learning_rate(model.neuralNetwork, specs.SGD, 2.0, 0.0, 1.0)
    return model


def bad_seed_below_range():
    model = specs.valid_updatable_network()
    specs.add_shuffle_and_seed(model.neuralNetwork, -1, 0, 10)
    return model


def good_nan_learning_rate_passes_like_in_core_ml():
    model = specs.valid_updatable_network()
    specs.add_learning_rate(model.neuralNetwork, specs.SGD, float("nan"), 0.0, 1.0)
    return model


def good_sgd_momentum_is_not_checked():
    model = specs.valid_updatable_network()
    specs.add_momentum(model.neuralNetwork, 5.0, 0.0, 1.0)
    return model
