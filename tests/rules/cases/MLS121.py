"""MLS121 network-shapes (NeuralNetworkShapes.cpp; a warning: Core ML still calls the model valid).

Upstream tests: NNShaperTest.cpp testSimpleNNShapeBad, testSimpleNNShapeBadOutput, testSimpleNNShape.
"""

from rules import general_specs as g


def _single_inner_product(input_size=4, output_size=3):
    model = g.plain_network()
    model.description.input[0].type.multiArrayType.shape[:] = [input_size]
    model.description.output[0].type.multiArrayType.shape[:] = [output_size]
    network = model.neuralNetwork
    del network.layers[1]
    network.layers[0].output[0] = "y"
    return model


def warns_inner_product_input_size_unlike_model_input():
    return _single_inner_product(input_size=5)


def warns_inner_product_output_size_unlike_model_output():
    return _single_inner_product(output_size=2)


def warns_flatten_size_unlike_inner_product():
    model = g.conv_network()
    conv = g.layer_named(model, "conv").convolution
    conv.outputChannels = 5
    conv.weights.floatValue.extend([0.5] * 27)
    conv.bias.floatValue.append(0.1)
    return model


def accepts_consistent_sizes():
    return _single_inner_product()


def accepts_exact_mapping_network_without_shape_inference():
    model = g.nd_network()
    model.description.output[0].type.multiArrayType.shape[:] = [7, 7]
    return model
