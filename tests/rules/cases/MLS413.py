"""MLS413 glm-weights-per-class."""

from rules import model_specs

def bad_reference_class_with_one_vector_per_class():
    spec = model_specs.glm_classifier()
    spec.glmClassifier.classEncoding = spec.glmClassifier.ReferenceClass
    return spec


def bad_one_vs_rest_with_two_vectors_for_two_classes():
    spec = model_specs.glm_classifier(("a", "b"))
    spec.glmClassifier.weights.add().value.extend([0.3, -0.2])
    spec.glmClassifier.offset.append(0.0)
    return spec


def good_reference_class_with_one_vector_less_than_classes():
    return model_specs.glm_classifier(one_vs_rest=False)
