"""MLS402 model-classifier-labels."""

from rules import model_specs

def bad_glm_classifier_without_labels():
    spec = model_specs.glm_classifier()
    spec.glmClassifier.ClearField("stringClassLabels")
    return spec


def bad_svm_classifier_with_an_empty_label_list():
    spec = model_specs.svm_classifier()
    del spec.supportVectorClassifier.stringClassLabels.vector[:]
    return spec


def good_int64_labels_with_an_int64_label_output():
    spec = model_specs.glm_classifier()
    spec.glmClassifier.int64ClassLabels.vector.extend([1, 2, 3])
    model_specs.set_type(spec.description.output[0], "int64Type")
    model_specs.set_type(spec.description.output[1], "dictionaryType", key="int64KeyType")
    return spec
