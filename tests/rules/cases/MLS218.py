"""MLS218 gradient-blocked-before-updatable-layer."""

from rules import specs


def bad_unary_between_layer_and_loss():
    return specs.updatable_network_through(specs.absolute)


def bad_softmax_not_feeding_the_loss():
    def softmax(layer):
        layer.softmax.SetInParent()
    return specs.updatable_network_through(softmax)


def bad_clean_branch_met_after_a_blocker_on_another_branch():
    return specs.lstm_with_two_branches(updatable_branch="h")


def good_clean_branch_met_before_the_blocker():
    return specs.lstm_with_two_branches(updatable_branch="x")


def good_relu_between_layer_and_loss():
    return specs.updatable_network_through(specs.relu)


def good_updatable_layer_after_the_blocker():
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True)
    network.layers[0].isUpdatable = False
    blocker = network.layers.add()
    blocker.name = "abs"
    blocker.input.append("B")
    blocker.output.append("M")
    specs.absolute(blocker)
    specs.add_inner_product(model, updatable=True, name="head", input="M", output="H")
    specs.add_softmax(model, "softmax", "H", "softmax_out")
    specs.add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", "label_target")
    specs.add_sgd_defaults(network)
    return model
