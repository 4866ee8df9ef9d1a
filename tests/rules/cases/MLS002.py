"""MLS002 spec-version-too-new (Model.cpp validateGeneric, Globals.hpp MLMODEL_SPECIFICATION_VERSION = 10)."""

from rules import general_specs as g


def rejects_version_eleven():
    return g.plain_network(version=11)


def accepts_newest_version_ten():
    return g.plain_network(version=10)
