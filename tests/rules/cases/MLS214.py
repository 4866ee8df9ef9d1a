"""MLS214 parameter-set-not-positive."""

from rules import specs


def _mini_batch_values(default: int, values: list[int]):
    model = specs.valid_updatable_network()
    batch = model.neuralNetwork.updateParams.optimizer.sgdOptimizer.miniBatchSize
    batch.defaultValue = default
    batch.set.values.extend(values)
    return model


def bad_zero_before_the_default():
    return _mini_batch_values(10, [0, 10])


def good_zero_after_the_default_is_never_read():
    return _mini_batch_values(10, [10, 0])


def good_non_positive_seed_values():
    model = specs.valid_updatable_network()
    specs.add_shuffle_and_seed(model.neuralNetwork, 3, 0, 0, allowed=(-1, 3))
    return model
