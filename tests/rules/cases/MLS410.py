"""MLS410 glm-weights-offsets."""

from rules import model_specs

def bad_regressor_with_more_offsets_than_weights():
    spec = model_specs.glm_regressor()
    spec.glmRegressor.offset.append(0.2)
    return spec


def bad_classifier_without_weights():
    spec = model_specs.glm_classifier()
    spec.glmClassifier.ClearField("weights")
    spec.glmClassifier.ClearField("offset")
    return spec


def good_regressor_with_two_outputs_and_two_offsets():
    spec = model_specs.glm_regressor()
    spec.glmRegressor.weights.add().value.extend([0.1, 0.2])
    spec.glmRegressor.offset.append(0.0)
    return spec
