"""MLS010 multiarray-data-type (InterfaceValidators.cpp validateFeatureDescription)."""

from rules import general_specs as g


def rejects_missing_data_type():
    model = g.plain_network()
    model.description.input[0].type.multiArrayType.dataType = 0
    return model


def rejects_float16_before_spec_version_7():
    model = g.plain_network(version=6)
    model.description.output[0].type.multiArrayType.dataType = g.FLOAT16
    return model


def accepts_float16_from_spec_version_7():
    model = g.plain_network(version=7)
    model.description.output[0].type.multiArrayType.dataType = g.FLOAT16
    return model


def accepts_double():
    model = g.plain_network()
    model.description.input[0].type.multiArrayType.dataType = g.DOUBLE
    return model
