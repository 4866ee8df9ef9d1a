"""MLS054 all-inputs-optional."""

from rules import specs


def bad_only_input_optional():
    model = specs.valid_updatable_network()
    model.description.input[0].type.isOptional = True
    return model


def good_one_of_two_inputs_optional():
    model = specs.valid_updatable_network()
    specs.add_array_feature(model.description.input, "extra", 1).type.isOptional = True
    return model
