"""MLS009 multiarray-shape (InterfaceValidators.cpp validateFeatureDescription)."""

from rules import general_specs as g


def rejects_input_without_shape():
    model = g.plain_network()
    del model.description.input[0].type.multiArrayType.shape[:]
    return model


def rejects_negative_dimension():
    model = g.conv_network()
    model.description.input[0].type.multiArrayType.shape[1] = -1
    return model


def rejects_default_shape_outside_enumerated_shapes():
    model = g.plain_network(version=3)
    shapes = model.description.input[0].type.multiArrayType.enumeratedShapes.shapes
    shapes.add().shape.append(5)
    return model


def rejects_shape_range_with_lower_above_upper():
    model = g.plain_network(version=3)
    size_range = model.description.input[0].type.multiArrayType.shapeRange.sizeRanges.add()
    size_range.lowerBound, size_range.upperBound = 6, 2
    return model


def accepts_output_without_shape():
    model = g.plain_network()
    del model.description.output[0].type.multiArrayType.shape[:]
    return model


def accepts_default_shape_among_enumerated_shapes():
    model = g.plain_network(version=3)
    shapes = model.description.input[0].type.multiArrayType.enumeratedShapes.shapes
    shapes.add().shape.append(4)
    return model


def accepts_flexibility_ignored_before_spec_version_3():
    model = g.plain_network(version=2)
    size_range = model.description.input[0].type.multiArrayType.shapeRange.sizeRanges.add()
    size_range.lowerBound, size_range.upperBound = 6, 2
    return model
