"""MLS903 batchnorm-on-gradient-path."""

from rules import specs


def bad_batchnorm_between_layer_and_loss():
    return specs.updatable_network_through(specs.batchnorm)


def good_no_batchnorm():
    return specs.updatable_network_through(specs.relu)
