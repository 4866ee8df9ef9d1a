"""MLS012 dictionary-key-type (InterfaceValidators.cpp validateFeatureDescription)."""

from rules import general_specs as g


def rejects_probabilities_without_key_type():
    model = g.classifier()
    model.description.output[0].type.dictionaryType.Clear()
    model.description.output[0].type.dictionaryType.SetInParent()
    return model


def accepts_string_keys():
    return g.classifier()


def accepts_int64_keys():
    return g.classifier(int64_labels=True)
