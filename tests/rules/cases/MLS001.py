"""MLS001 spec-version-missing (Model.cpp validateGeneric)."""

from rules import general_specs as g


def rejects_version_zero():
    model = g.plain_network()
    model.specificationVersion = 0
    return model


def accepts_version_one():
    return g.plain_network(version=1)
