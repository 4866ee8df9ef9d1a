"""MLS005 no-outputs (Validators.hpp validateFeatureDescriptions)."""

from rules import general_specs as g


def rejects_no_outputs():
    model = g.plain_network()
    del model.description.output[:]
    return model


def accepts_one_output():
    return g.plain_network()
