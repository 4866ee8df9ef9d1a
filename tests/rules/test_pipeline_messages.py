"""Pipeline type-mismatch messages show what actually differs, down to optional flags and flexible shapes."""

from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec

from conftest import FIXTURES


def _pipeline_with_stage_input(change):
    spec = load_spec(FIXTURES / "pipeline.mlmodel")
    stage_input = spec.pipelineClassifier.pipeline.models[0].description.input[0]
    change(stage_input.type)
    return validate_spec(spec).coreml_first


def test_an_empty_enumerated_shapes_list_is_named():
    first = _pipeline_with_stage_input(lambda t: t.multiArrayType.enumeratedShapes.SetInParent())
    assert first.code == "MLS302"
    assert "FLOAT32 multi-array [16] with an empty enumeratedShapes list, but the feature it reads is FLOAT32 " \
           "multi-array [16];" in first.message


def test_type_descriptions_show_shape_ranges_and_optional_flags():
    from mlsurgery._proto import feature_types_pb2
    from mlsurgery.rules.pipeline import describe_type

    feature_type = feature_types_pb2().FeatureType()
    feature_type.multiArrayType.shape.append(16)
    feature_type.multiArrayType.dataType = feature_type.multiArrayType.ArrayDataType.Value("DOUBLE")
    size = feature_type.multiArrayType.shapeRange.sizeRanges.add()
    size.lowerBound, size.upperBound = 1, 16
    feature_type.isOptional = True
    assert describe_type(feature_type) == "optional DOUBLE multi-array [16] with shape ranges [[1, 16]]"
