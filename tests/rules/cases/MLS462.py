"""MLS462 nms-output-shapes."""

from rules import model_specs

def _shape(feature, *dimensions):
    array = feature.type.multiArrayType
    del array.shape[:]
    array.shape.extend(dimensions)


def _ranges(feature, *bounds):
    array = feature.type.multiArrayType
    del array.shape[:]
    for lower, upper in bounds:
        size_range = array.shapeRange.sizeRanges.add()
        size_range.lowerBound, size_range.upperBound = lower, upper


def bad_confidence_output_of_rank_3():
    spec = model_specs.non_maximum_suppression()
    _shape(spec.description.output[0], 10, 3, 1)
    return spec


def bad_classes_differ_from_labels():
    spec = model_specs.non_maximum_suppression()
    spec.nonMaximumSuppression.stringClassLabels.vector.append("fish")
    return spec


def bad_coordinates_without_shape():
    # Core ML's validator reads past the coordinates shape here and crashes.
    spec = model_specs.non_maximum_suppression()
    _shape(spec.description.output[1])
    return spec


def bad_boxes_differ_between_outputs():
    spec = model_specs.non_maximum_suppression()
    _shape(spec.description.output[1], 5, 4)
    return spec


def bad_enumerated_confidence_shapes():
    spec = model_specs.non_maximum_suppression()
    _shape(spec.description.output[0])
    spec.description.output[0].type.multiArrayType.enumeratedShapes.shapes.add().shape.extend([10, 3])
    return spec


def bad_range_of_classes_excludes_labels():
    spec = model_specs.non_maximum_suppression()
    _ranges(spec.description.output[0], (0, -1), (4, -1))
    _ranges(spec.description.output[1], (0, -1), (4, 4))
    return spec


def good_unshaped_outputs():
    spec = model_specs.non_maximum_suppression()
    _shape(spec.description.output[0])
    _shape(spec.description.output[1])
    return spec


def good_shape_ranges():
    spec = model_specs.non_maximum_suppression()
    _ranges(spec.description.output[0], (0, -1), (3, 3))
    _ranges(spec.description.output[1], (0, -1), (4, 4))
    return spec
