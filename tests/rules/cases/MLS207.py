"""MLS207 loss-target-produced-in-graph."""

from rules import specs


def bad_cross_entropy_target_is_a_layer_output():
    model = specs.valid_updatable_network()
    specs.loss(model).categoricalCrossEntropyLossLayer.target = "B"
    model.description.trainingInput[1].name = "B"
    return model


def bad_mse_target_is_a_layer_output():
    model = specs.valid_updatable_network()
    mse = specs.loss(model).meanSquaredErrorLossLayer
    mse.input = "B"
    mse.target = "softmax_out"
    model.description.trainingInput[1].name = "softmax_out"
    return model


def good_target_from_training_data():
    return specs.valid_updatable_network()
