"""MLS412 glm-enum-value."""

from rules import model_specs

def bad_unknown_post_evaluation_transform():
    spec = model_specs.glm_classifier()
    spec.glmClassifier.postEvaluationTransform = 5
    return spec


def bad_unknown_class_encoding():
    spec = model_specs.glm_classifier()
    spec.glmClassifier.classEncoding = 2
    return spec


def good_probit_transform():
    spec = model_specs.glm_classifier(("a", "b"))
    spec.glmClassifier.postEvaluationTransform = spec.glmClassifier.Probit
    return spec
