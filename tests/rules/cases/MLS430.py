"""MLS430 tree-dimensions."""

from rules import model_specs

def bad_zero_output_dimensions():
    spec = model_specs.tree_regressor()
    spec.treeEnsembleRegressor.treeEnsemble.numPredictionDimensions = 0
    return spec


def bad_base_prediction_value_count():
    spec = model_specs.tree_regressor()
    spec.treeEnsembleRegressor.treeEnsemble.basePredictionValue.append(0.5)
    return spec


def bad_class_count_differs_from_dimensions():
    spec = model_specs.tree_classifier()
    spec.treeEnsembleClassifier.stringClassLabels.vector.append("d")
    return spec


def good_binary_classifier_with_one_dimension():
    return model_specs.tree_classifier(("a", "b"))


def good_classifier_without_labels():
    spec = model_specs.tree_classifier()
    spec.treeEnsembleClassifier.ClearField("stringClassLabels")
    model_specs.set_type(spec.description.output[0], "int64Type")
    return spec
