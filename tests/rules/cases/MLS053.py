"""MLS053 default-optional-value-version."""

from rules import specs


def _network_with_defaulted_input(version: int):
    model = specs.valid_updatable_network()
    feature = specs.add_array_feature(model.description.input, "extra", 1)
    feature.type.isOptional = True
    feature.type.multiArrayType.floatDefaultValue = 0.0
    model.specificationVersion = version
    return model


def bad_default_value_at_version_4():
    return _network_with_defaulted_input(4)


def good_default_value_at_version_5():
    return _network_with_defaulted_input(5)
