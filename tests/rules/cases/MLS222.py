"""MLS222 training-label-type-mismatch."""

from rules import specs


def bad_int64_label_for_string_labels():
    model = specs.valid_classifier()
    model.description.trainingInput[-1].type.int64Type.SetInParent()
    return model


def good_string_label():
    return specs.valid_classifier()
