"""MLS011 default-value-type (InterfaceValidators.cpp validateFeatureDescription).

Upstream test: NNValidatorTests.cpp testInvalidDefaultOptionalValue.
"""

from rules import general_specs as g


def rejects_double_default_on_float32_array():
    model = g.plain_network(version=5)
    model.description.input[0].type.multiArrayType.doubleDefaultValue = 1.0
    return model


def rejects_int_default_on_float32_array():
    model = g.plain_network(version=5)
    model.description.input[0].type.multiArrayType.intDefaultValue = 1
    return model


def accepts_float_default_on_float32_array():
    model = g.plain_network(version=5)
    model.description.input[0].type.multiArrayType.floatDefaultValue = 1.0
    return model
