"""MLS202 quantized-updatable-layer."""

from rules import specs


def _network(**quantized):
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True, **quantized)
    specs.add_softmax(model, "softmax", "B", "softmax_out")
    specs.add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", "label_target")
    specs.add_sgd_defaults(network)
    return model


def bad_quantized_weights():
    return _network(quantized_weights=True)


def bad_quantized_bias():
    return _network(quantized_bias=True)


def good_quantized_bias_ignored_without_has_bias():
    model = _network(quantized_bias=True)
    model.neuralNetwork.layers[0].innerProduct.hasBias = False
    return model
