"""MLS201 layer-kind-not-updatable."""

from rules import specs


def _marked_relu(layer):
    specs.relu(layer)
    layer.isUpdatable = True


def bad_updatable_activation():
    return specs.updatable_network_through(_marked_relu)


def good_frozen_activation():
    return specs.updatable_network_through(specs.relu)
