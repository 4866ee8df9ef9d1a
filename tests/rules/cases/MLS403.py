"""MLS403 predicted-feature-name-missing."""

from rules import model_specs

def bad_glm_classifier_without_predicted_feature_name():
    spec = model_specs.glm_classifier()
    spec.description.predictedFeatureName = ""
    return spec


def bad_svm_regressor_without_predicted_feature_name():
    spec = model_specs.svm_regressor()
    spec.description.predictedFeatureName = ""
    return spec


def good_tree_regressor_needs_no_predicted_feature_name():
    # Tree ensembles only get their tree structure checked, not a regressor interface.
    spec = model_specs.tree_regressor()
    spec.description.predictedFeatureName = ""
    return spec
