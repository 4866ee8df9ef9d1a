"""MLS904 updatable-layer-gets-no-gradient."""

from rules import specs


def bad_updatable_layer_after_the_loss_input():
    model = specs.valid_updatable_network()
    specs.add_inner_product(model, updatable=True, name="after_softmax", input="softmax_out", output="extra")
    return model


def good_every_updatable_layer_feeds_the_loss():
    return specs.valid_updatable_network()
