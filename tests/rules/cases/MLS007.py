"""MLS007 feature-type-missing (InterfaceValidators.cpp validateFeatureDescription)."""

from rules import general_specs as g


def rejects_input_without_type():
    model = g.plain_network()
    model.description.input[0].ClearField("type")
    return model


def rejects_output_with_empty_type():
    model = g.plain_network()
    output = model.description.output[0]
    output.ClearField("type")
    output.type.SetInParent()
    return model


def accepts_typed_features():
    return g.plain_network()
