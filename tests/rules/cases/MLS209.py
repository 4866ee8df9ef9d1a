"""MLS209 unknown-loss-type."""

from rules import specs


def bad_loss_without_type():
    model = specs.valid_updatable_network()
    specs.loss(model).ClearField("categoricalCrossEntropyLossLayer")
    return model


def good_cross_entropy():
    return specs.valid_updatable_network()
