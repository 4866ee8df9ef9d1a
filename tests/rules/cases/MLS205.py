"""MLS205 multiple-loss-layers."""

from rules import specs


def bad_two_losses():
    model = specs.valid_updatable_network()
    second = model.neuralNetwork.updateParams.lossLayers.add()
    second.CopyFrom(specs.loss(model))
    second.name = "second_loss"
    return model


def good_one_loss():
    return specs.valid_updatable_network()
