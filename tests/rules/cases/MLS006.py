"""MLS006 feature-name-missing (InterfaceValidators.cpp validateFeatureDescription)."""

from rules import general_specs as g


def rejects_unnamed_output():
    model = g.plain_network()
    model.description.output[0].name = ""
    return model


def accepts_named_features():
    return g.plain_network()
