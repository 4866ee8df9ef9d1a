"""MLS102 network-feature-types (NeuralNetworkValidatorUtils.hpp validateInputOutputTypes)."""

from rules import general_specs as g


def rejects_string_input():
    model = g.plain_network()
    model.description.input[0].type.stringType.SetInParent()
    return model


def rejects_double_output_of_a_plain_network():
    model = g.plain_network()
    model.description.output[0].type.doubleType.SetInParent()
    return model


def accepts_classifier_label_and_dictionary_outputs():
    return g.classifier()


def accepts_regressor_double_output():
    model = g.regressor()
    model.description.output[0].type.doubleType.SetInParent()
    return model
