"""MLS212 epochs-missing."""

from rules import specs


def bad_no_epochs():
    model = specs.valid_updatable_network()
    model.neuralNetwork.updateParams.ClearField("epochs")
    return model


def good_epochs_set():
    return specs.valid_updatable_network()
