"""MLS206 cross-entropy-input-not-softmax."""

from rules import specs


def bad_reads_the_inner_product():
    model = specs.valid_updatable_network()
    specs.loss(model).categoricalCrossEntropyLossLayer.input = "B"
    return model


def bad_reads_a_model_input():
    model = specs.valid_updatable_network()
    specs.loss(model).categoricalCrossEntropyLossLayer.input = "A"
    return model


def good_reads_the_softmax():
    return specs.valid_updatable_network()
