"""MLS414 glm-probit-multiclass."""

from rules import model_specs

def bad_probit_with_three_classes():
    spec = model_specs.glm_classifier()
    spec.glmClassifier.postEvaluationTransform = spec.glmClassifier.Probit
    return spec


def good_probit_with_two_classes():
    spec = model_specs.glm_classifier(("a", "b"))
    spec.glmClassifier.postEvaluationTransform = spec.glmClassifier.Probit
    return spec
