"""MLS200 no-updatable-layer."""

from rules import specs


def bad_no_layer_marked():
    model = specs.valid_updatable_network()
    model.neuralNetwork.layers[0].isUpdatable = False
    return model


def good_one_layer_marked():
    return specs.valid_updatable_network()
