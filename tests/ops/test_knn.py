"""make_knn: the pipeline it builds, checked against the source model, coremltools' k-NN builder and the validator."""

import pytest
from coremltools.models.nearest_neighbors import KNearestNeighborsClassifierBuilder

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.errors import ModelLoadError, SurgeryError, UsageError
from mlsurgery.network import pipeline_stages
from mlsurgery.io import load_spec
from mlsurgery.ops.knn import KnnSettings, make_knn
from mlsurgery.validate import validate_spec
from ops import createml_specs

SQUEEZENET = FIXTURES / "turi_squeezenet.mlmodel"
FLOWERS = SHARED_MODELS / "createml_flower_classifier.mlmodel"
SNACKS = SHARED_MODELS / "healthysnacks_pipeline.mlmodel"


def _knn(spec):
    return pipeline_stages(spec)[-1]


def test_squeezenet_becomes_feature_extractor_plus_empty_updatable_knn():
    original = load_spec(SQUEEZENET)
    spec = load_spec(SQUEEZENET)
    make_knn(spec, "flatten", KnnSettings(k=3))
    assert validate_spec(spec).valid
    assert spec.WhichOneof("Type") == "pipelineClassifier" and spec.isUpdatable
    assert spec.specificationVersion >= 4
    extractor, knn = pipeline_stages(spec)
    assert not extractor.isUpdatable and knn.isUpdatable
    # The classifier's innerProduct and softmax go; every other layer is kept exactly, weights included.
    source_layers = [layer for layer in original.neuralNetworkClassifier.layers
                     if layer.name not in ("fullyconnected0", "softmax")]
    assert list(extractor.neuralNetwork.layers) == source_layers
    assert list(extractor.neuralNetwork.preprocessing) == list(original.neuralNetworkClassifier.preprocessing)
    # The dimension is what the removed classifier layer read.
    classifier = next(l for l in original.neuralNetworkClassifier.layers if l.name == "fullyconnected0")
    dimension = classifier.innerProduct.inputChannels
    assert knn.kNearestNeighborsClassifier.nearestNeighborsIndex.numberOfDimensions == dimension
    assert list(extractor.description.output[0].type.multiArrayType.shape) == [dimension]
    assert knn.description.input[0] == extractor.description.output[0]
    assert [f.name for f in spec.description.trainingInput] == ["image", "label"]
    assert spec.description.trainingInput[1].type.WhichOneof("Type") == "stringType"
    assert [f.name for f in spec.description.output] == ["label", "labelProbability"]


def test_default_features_are_the_classifier_layer_input():
    spec = load_spec(SQUEEZENET)
    make_knn(spec)
    assert pipeline_stages(spec)[0].description.output[0].name == "flatten"


@pytest.mark.parametrize("weighting, index", [("uniform", "linear"), ("inverse", "kd-tree")])
def test_knn_parameters_equal_coremltools_builder(weighting, index):
    spec = load_spec(SQUEEZENET)
    make_knn(spec, settings=KnnSettings(k=5, k_range=(1, 10), weighting=weighting, index=index, leaf_size=20,
                                        default_label="???"))
    builder = KNearestNeighborsClassifierBuilder(
        input_name="flatten", output_name="label", number_of_dimensions=1000, default_class_label="???",
        number_of_neighbors=5, weighting_scheme="inverse_distance" if weighting == "inverse" else "uniform",
        index_type="kd_tree" if index == "kd-tree" else "linear", leaf_size=20)
    builder.set_number_of_neighbors_with_bounds(5, allowed_range=(1, 10))
    assert _knn(spec).kNearestNeighborsClassifier == builder.spec.kNearestNeighborsClassifier


def test_int64_classifier_gets_int_labels():
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    make_knn(spec)
    knn = _knn(spec)
    assert knn.kNearestNeighborsClassifier.WhichOneof("ClassLabels") == "int64ClassLabels"
    assert knn.kNearestNeighborsClassifier.defaultInt64Label == -1
    assert spec.description.trainingInput[-1].type.WhichOneof("Type") == "int64Type"
    assert validate_spec(spec).valid


def test_createml_pipeline_keeps_its_feature_print_and_replaces_the_glm():
    original = load_spec(FLOWERS)
    spec = load_spec(FLOWERS)
    make_knn(spec)
    assert validate_spec(spec).valid
    printer, knn = pipeline_stages(spec)
    assert printer == pipeline_stages(original)[0]
    assert knn.description.input[0] == printer.description.output[0]
    assert knn.kNearestNeighborsClassifier.nearestNeighborsIndex.numberOfDimensions == 2048
    assert [f.name for f in spec.description.output] == ["classLabel", "classLabelProbs"]


def test_pipeline_with_network_head_reads_the_feature_print_directly():
    spec = load_spec(SNACKS)
    make_knn(spec)
    assert validate_spec(spec).valid
    kinds = [stage.WhichOneof("Type") for stage in pipeline_stages(spec)]
    assert kinds == ["visionFeaturePrint", "kNearestNeighborsClassifier"]


@pytest.mark.parametrize("name, spec", createml_specs.all_shapes(), ids=[n for n, _ in createml_specs.all_shapes()])
def test_createml_shaped_classifiers_give_valid_knn_pipelines(name, spec):
    labels_kind = spec.description.output[0].type.WhichOneof("Type")
    make_knn(spec)
    report = validate_spec(spec)
    assert report.valid, report.coreml_first
    assert spec.description.trainingInput[-1].type.WhichOneof("Type") == labels_kind


def test_refusals():
    with pytest.raises(UsageError, match="no blob named 'flaten'.*'flatten'"):
        make_knn(load_spec(SQUEEZENET), "flaten")
    with pytest.raises(SurgeryError, match="1000 × 13 × 13.*not a feature vector"):
        make_knn(load_spec(SQUEEZENET), "relu_conv10")
    with pytest.raises(UsageError, match="outside its allowed range"):
        KnnSettings(k=11, k_range=(1, 10))
    glm_alone = pipeline_stages(load_spec(FLOWERS))[1]
    with pytest.raises(ModelLoadError, match="'glmClassifier' has no neural network"):
        make_knn(glm_alone)


def test_validate_warns_when_the_extractor_declares_a_blob_that_is_not_the_vector_it_claims():
    """The hollance/coreml-training#4 trap, made by hand: a 1000 × 13 × 13 blob declared as [1000]."""
    spec = load_spec(SQUEEZENET)
    make_knn(spec, "flatten")
    extractor, knn = pipeline_stages(spec)
    del extractor.neuralNetwork.layers[-2:]  # drop pool10 and flatten: the output is now relu_conv10
    for feature in (extractor.description.output[0], knn.description.input[0], knn.description.trainingInput[0]):
        feature.name = "relu_conv10"
    report = validate_spec(spec)
    assert [finding.code for finding in report.findings] == ["MLS121"]
    assert "height of blob 'relu_conv10' must be 1" in report.findings[0].message


def test_inspect_summary_tells_which_stage_trains_and_the_knn_settings():
    from mlsurgery.inspection import summarize

    spec = load_spec(SQUEEZENET)
    make_knn(spec, settings=KnnSettings(k=4, k_range=(1, 8), weighting="inverse", index="kd-tree", leaf_size=12))
    summary = summarize(spec)
    assert [(s["type"], s["is_updatable"]) for s in summary["stages"]] == [
        ("neuralNetwork", False), ("kNearestNeighborsClassifier", True)]
    assert [f["name"] for f in summary["training_inputs"]] == ["image", "label"]
    assert summary["knn"] == [{"where": "pipeline stage 2", "dimensions": 1000,
                               "number_of_neighbors": {"default": 4, "allowed_range": [1, 8]},
                               "weighting": "inverse-distance", "index": "kd-tree", "leaf_size": 12,
                               "labels": "string", "samples": 0, "default_label": "unknown"}]
    flowers = summarize(load_spec(FLOWERS))
    assert flowers["glm"] == [{"where": "pipeline stage 2", "classes": 5, "transform": "logit",
                               "encoding": "reference-class", "network_replacement_preserves": "probabilities"}]


def test_nd_network_feature_size_is_measured_and_the_blob_reshaped_to_rank_1(converted_classifier):
    import numpy as np

    from mlsurgery.engine import build_model
    from mlsurgery.engine.knn_training import train_knn

    spec = type(converted_classifier)()
    spec.CopyFrom(converted_classifier)
    fc = next(layer for layer in spec.neuralNetworkClassifier.layers if layer.WhichOneof("layer") == "innerProduct")
    make_knn(spec, settings=KnnSettings(k=1))
    assert validate_spec(spec).valid
    extractor, knn = pipeline_stages(spec)
    # The N-D blob is [1, 8]: a reshape makes it the rank-1 [8] the k-NN reads, 8 being what the classifier read.
    assert extractor.neuralNetwork.layers[-1].reshapeStatic.targetShape == [fc.innerProduct.inputChannels]
    assert list(knn.description.input[0].type.multiArrayType.shape) == [fc.innerProduct.inputChannels]
    rng = np.random.default_rng(0)
    examples = [({"x0": rng.normal(0, 1, (1, 3, 16, 16)).astype(np.float32)}, label) for label in "wxyz"]
    train_knn(spec, examples)
    model = build_model(spec)
    assert [model.predict(inputs)["classLabel"] for inputs, _ in examples] == list("wxyz")


def test_pipeline_nested_in_a_pipeline_is_read_as_its_stages():
    inner = createml_specs.image_classifier()
    spec = type(inner)()
    spec.specificationVersion = inner.specificationVersion
    spec.description.CopyFrom(inner.description)
    spec.pipelineClassifier.pipeline.models.add().CopyFrom(inner)
    make_knn(spec)
    assert validate_spec(spec).valid
    assert [s.WhichOneof("Type") for s in pipeline_stages(spec)] == ["visionFeaturePrint", "kNearestNeighborsClassifier"]


def test_rank5_blob_with_its_values_along_the_width_is_not_a_vector():
    """split_1d's output is 1 × 1 × 100: declared as [100] it would be read as 100 channels, so it is refused."""
    with pytest.raises(SurgeryError, match="1 × 1 × 100.*not a feature vector"):
        make_knn(load_spec(FIXTURES / "split_1d.mlmodel"))


def test_plain_network_ending_in_linear_scores_offers_the_input_of_that_layer():
    """mnist_cnn ends in two innerProducts and outputs the 10 scores (declared without a shape): the features
    are the 50 values the last one reads."""
    spec = load_spec(SHARED_MODELS / "mnist_cnn.mlmodel")
    last = spec.neuralNetwork.layers[-1]
    make_knn(spec)
    assert validate_spec(spec).valid
    extractor, knn = pipeline_stages(spec)
    assert extractor.description.output[0].name == last.input[0]
    assert knn.kNearestNeighborsClassifier.nearestNeighborsIndex.numberOfDimensions == last.innerProduct.inputChannels
