"""MLS063 knn-classifier-interface."""

from rules import specs


def bad_label_output_is_int64_for_string_labels():
    model = specs.valid_nearest_neighbors()
    model.description.output[0].type.int64Type.SetInParent()
    return model


def bad_predicted_feature_name_missing():
    model = specs.valid_nearest_neighbors()
    model.description.predictedFeatureName = ""
    return model


def bad_probabilities_output_is_a_string():
    model = specs.valid_nearest_neighbors()
    specs.string_feature(model.description.output, "probabilities")
    model.description.predictedProbabilitiesName = "probabilities"
    return model


def good_int64_labels_with_int64_output():
    model = specs.valid_nearest_neighbors()
    model.kNearestNeighborsClassifier.int64ClassLabels.vector.append(0)
    model.description.output[0].type.int64Type.SetInParent()
    return model
