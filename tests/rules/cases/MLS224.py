"""MLS224 no-loss-layer."""

from rules import specs


def bad_no_loss_layer():
    model = specs.valid_updatable_network()
    del model.neuralNetwork.updateParams.lossLayers[:]
    return model


def good_loss_layer():
    return specs.valid_updatable_network()
