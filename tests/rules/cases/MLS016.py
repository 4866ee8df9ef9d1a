"""MLS016 state-type (InterfaceValidators.cpp validateFeatureDescription).

Upstream tests: InterfaceTests.cpp testStateSpecificationVersion, testStateFeatureIsNotFP16_shouldFail,
testStateFeatureIsOptional_shouldFail, testStateFeature_ArrayUsesRangeFlexibleShape_shouldFail.
"""

from rules import general_specs as g


def _with_state(version):
    model = g.plain_network(version=version)
    feature = model.description.input.add()
    feature.name = "counter"
    array = feature.type.stateType.arrayType
    array.dataType = g.FLOAT16
    array.shape.append(2)
    return model


def rejects_state_before_spec_version_9():
    return _with_state(version=8)


def rejects_optional_state():
    model = _with_state(version=9)
    model.description.input[1].type.isOptional = True
    return model


def rejects_float32_state():
    model = _with_state(version=9)
    model.description.input[1].type.stateType.arrayType.dataType = g.FLOAT32
    return model


def rejects_flexible_state():
    model = _with_state(version=9)
    size_range = model.description.input[1].type.stateType.arrayType.shapeRange.sizeRanges.add()
    size_range.lowerBound, size_range.upperBound = 1, 4
    return model


def accepts_float16_state():
    return _with_state(version=9)
