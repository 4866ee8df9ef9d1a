"""MLS411 glm-weight-lengths."""

from rules import model_specs

def bad_regressor_weight_vectors_of_different_lengths():
    spec = model_specs.glm_regressor()
    spec.glmRegressor.weights.add().value.extend([0.1])
    spec.glmRegressor.offset.append(0.0)
    return spec


def bad_classifier_with_empty_weight_vectors():
    spec = model_specs.glm_classifier()
    for weights in spec.glmClassifier.weights:
        weights.ClearField("value")
    return spec


def good_regressor_without_coefficients():
    # Core ML only compares the lengths it finds; no weight vectors at all pass.
    spec = model_specs.glm_regressor()
    spec.glmRegressor.ClearField("weights")
    spec.glmRegressor.ClearField("offset")
    return spec
