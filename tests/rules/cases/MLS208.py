"""MLS208 mse-input-not-produced."""

from rules import specs


def _mse(input_blob: str):
    model = specs.valid_updatable_network()
    mse = specs.loss(model).meanSquaredErrorLossLayer
    mse.input = input_blob
    mse.target = "label_target"
    return model


def bad_reads_a_model_input():
    return _mse("A")


def good_reads_a_layer_output():
    return _mse("B")
