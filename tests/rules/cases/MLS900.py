"""MLS900 fp16-weights-in-updatable-network."""

import struct

from rules import specs


def _fp16(weights):
    weights.ClearField("floatValue")
    weights.float16Value = struct.pack("<e", 1.0)


def bad_fp16_weights_in_the_updatable_layer():
    model = specs.valid_updatable_network()
    _fp16(model.neuralNetwork.layers[0].innerProduct.weights)
    _fp16(model.neuralNetwork.layers[0].innerProduct.bias)
    return model


def bad_fp16_only_in_a_later_layer():
    model = specs.new_model()
    network = specs.basic_network(model, updatable=True, layers=2)
    _fp16(network.layers[1].innerProduct.weights)
    _fp16(network.layers[1].innerProduct.bias)
    network.layers[1].isUpdatable = False
    specs.add_softmax(model, "softmax", "B", "softmax_out")
    specs.add_cross_entropy(model, network, "cross_entropy_loss_layer", "softmax_out", "label_target")
    specs.add_sgd_defaults(network)
    return model


def good_fp16_in_a_frozen_first_pipeline_stage():
    spec = specs.four_stage_pipeline(updatable=True, updatable_stages={4})
    _fp16(spec.pipeline.models[0].neuralNetwork.layers[0].innerProduct.weights)
    _fp16(spec.pipeline.models[0].neuralNetwork.layers[0].innerProduct.bias)
    return spec
