"""MLS105 classifier-outputs (InterfaceValidators.cpp validateClassifierFeatureDescriptions)."""

from rules import general_specs as g


def rejects_missing_predicted_feature_name():
    model = g.classifier()
    model.description.predictedFeatureName = ""
    return model


def rejects_int64_labels_with_string_label_output():
    model = g.classifier(int64_labels=True)
    model.description.output[1].type.stringType.SetInParent()
    return model


def rejects_predicted_feature_not_an_output():
    model = g.classifier()
    model.description.predictedFeatureName = "class"
    return model


def rejects_string_probabilities_output():
    model = g.classifier()
    model.description.output[0].type.stringType.SetInParent()
    return model


def accepts_int64_labels_with_int64_output():
    return g.classifier(int64_labels=True)


def accepts_no_probabilities_name():
    model = g.classifier()
    model.description.predictedProbabilitiesName = ""
    return model
