"""MLS015 sequence-type (InterfaceValidators.cpp validateFeatureDescription)."""

from mlsurgery._proto import model_pb2


def _identity_over_sequences(version):
    """An identity model passing a String sequence through (validate<identity> accepts any interface)."""
    model = model_pb2().Model()
    model.specificationVersion = version
    for features, name in ((model.description.input, "words"), (model.description.output, "words")):
        feature = features.add()
        feature.name = name
        feature.type.sequenceType.stringType.SetInParent()
    model.identity.SetInParent()
    return model


def rejects_sequence_before_spec_version_3():
    return _identity_over_sequences(version=2)


def rejects_sequence_without_element_type():
    model = _identity_over_sequences(version=3)
    model.description.output[0].type.sequenceType.ClearField("stringType")
    return model


def rejects_inverted_size_range():
    model = _identity_over_sequences(version=3)
    size_range = model.description.input[0].type.sequenceType.sizeRange
    size_range.lowerBound, size_range.upperBound = 5, 1
    return model


def accepts_string_sequence():
    return _identity_over_sequences(version=3)
