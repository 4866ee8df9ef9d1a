"""MLS204 layer-name-collision."""

from rules import specs


def bad_loss_named_like_a_layer():
    model = specs.valid_updatable_network()
    specs.loss(model).name = "inner_layer"
    return model


def good_distinct_names():
    return specs.valid_updatable_network()
