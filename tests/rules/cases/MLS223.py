"""MLS223 training-inputs-missing-target."""

from rules import specs


def bad_target_under_another_name():
    model = specs.valid_updatable_network()
    model.description.trainingInput[1].name = "label"
    return model


def bad_classifier_without_label_or_target():
    model = specs.valid_classifier()
    model.description.trainingInput[-1].name = "label"
    return model


def good_classifier_with_target_instead_of_label():
    model = specs.valid_classifier()
    del model.description.trainingInput[-1]
    specs.add_array_feature(model.description.trainingInput, "target", 1, specs.INT32)
    return model
