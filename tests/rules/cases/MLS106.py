"""MLS106 regressor-output (InterfaceValidators.cpp validateRegressorInterface)."""

from rules import general_specs as g


def rejects_regressor_without_predicted_feature_name():
    model = g.regressor()
    model.description.predictedFeatureName = ""
    return model


def rejects_predicted_feature_not_an_output():
    model = g.regressor()
    model.description.predictedFeatureName = "target"
    return model


def accepts_array_output():
    return g.regressor()
