"""Updatable models for the contract, Swift and picture tests, made with mlsurgery's own make-updatable API.

Fixtures are non-updatable; these are updatable copies (with various optimizers and allowed values), the
already-updatable third-party models, a k-NN pipeline shaped like Apple's updatable drawing classifier (its
feature extractor is the real TinyDrawingEmbedding), and a network whose feature names are Swift keywords or start
with digits. Import ``updatable_models`` into a test module to use the session-scoped fixture.
"""

from __future__ import annotations

import shutil

import pytest

from conftest import FIXTURES, SHARED_MODELS


def _committed_updatable() -> list:
    from mlsurgery.io import load_spec

    return sorted(path for path in FIXTURES.rglob("*.mlmodel") if load_spec(path).isUpdatable)


# Every updatable model committed under fixtures/ (third-party ones and generated ones), found rather than listed,
# so a new one is covered without touching the tests.
COMMITTED_UPDATABLE = _committed_updatable()
MADE_UPDATABLE = ["squeezenet", "mnist_adam", "split_1d", "regressor", "pipeline", "quickdraw", "knn_drawing",
                  "awkward_names"]
ALL_UPDATABLE = MADE_UPDATABLE + [path.stem for path in COMMITTED_UPDATABLE]


def _make(source, output, layers, **options):
    from mlsurgery.jobs import make_updatable_file

    make_updatable_file(source, output, layers, **options)
    return output


def _knn_drawing_pipeline(output):
    """Apple's updatable drawing classifier: TinyDrawingEmbedding followed by an empty k-NN (coremltools docs,
    docs-guides/source/updatable-tiny-drawing-classifier-pipeline-model.md)."""
    import coremltools
    from coremltools.models.nearest_neighbors import KNearestNeighborsClassifierBuilder

    from mlsurgery.io import load_spec, save_spec

    embedding = load_spec(SHARED_MODELS / "tiny_drawing_embedding.mlmodel")
    knn = KNearestNeighborsClassifierBuilder(input_name="embedding", output_name="label", number_of_dimensions=128,
                                             default_class_label="unknown", k=3,
                                             weighting_scheme="inverse_distance", index_type="linear")
    knn.set_number_of_neighbors_with_bounds(3, allowed_range=(1, 10))
    knn_spec = knn.spec
    pipeline = coremltools.proto.Model_pb2.Model()
    pipeline.specificationVersion = coremltools._MINIMUM_UPDATABLE_SPEC_VERSION
    pipeline.isUpdatable = True
    pipeline.description.input.extend(embedding.description.input[:])
    pipeline.description.output.extend(knn_spec.description.output[:])
    pipeline.description.predictedFeatureName = knn_spec.description.predictedFeatureName
    pipeline.description.predictedProbabilitiesName = knn_spec.description.predictedProbabilitiesName
    pipeline.description.trainingInput.extend([embedding.description.input[0]])
    pipeline.description.trainingInput[0].shortDescription = "Example sketch"
    pipeline.description.trainingInput.extend([knn_spec.description.output[0]])
    pipeline.description.trainingInput[1].shortDescription = "Associated true label of example sketch"
    pipeline.pipelineClassifier.pipeline.models.add().CopyFrom(embedding)
    pipeline.pipelineClassifier.pipeline.models.add().CopyFrom(knn_spec)
    pipeline.pipelineClassifier.pipeline.names.extend(["embedding", "knn"])
    save_spec(pipeline, output)
    return output


def _awkward_names(output):
    """A regressor whose features are called ``class``, ``1st input``, ``Type`` and ``self``: Swift keywords and a
    name starting with a digit (with a space) must still give valid Swift."""
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    import numpy as np

    from mlsurgery.io import save_spec

    builder = NeuralNetworkBuilder([("class", datatypes.Array(4)), ("1st input", datatypes.Array(4)),
                                    ("Type", datatypes.Array(4))],
                                   [("self", datatypes.Array(2))], disable_rank5_shape_mapping=True)
    builder.add_elementwise("sum", ["class", "1st input", "Type"], "summed", mode="ADD")
    weights = np.arange(8, dtype=np.float32).reshape(2, 4) / 10
    builder.add_inner_product("default", weights, np.zeros(2, np.float32), 4, 2, True, "summed", "self")
    save_spec(builder.spec, output.with_suffix(".source.mlmodel"))
    return _make(output.with_suffix(".source.mlmodel"), output, ["default"], loss="mse")


@pytest.fixture(scope="session")
def updatable_models(tmp_path_factory) -> dict:
    """name → path of every updatable model the app-side tests run on."""
    from mlsurgery.coreml import OptimizerKind
    from mlsurgery.ops.update_parameters import EpochSettings, OptimizerSettings

    folder = tmp_path_factory.mktemp("updatable")
    models = {
        "squeezenet": _make(FIXTURES / "turi_squeezenet.mlmodel", folder / "HandsTuri.mlmodel",
                            ["fullyconnected0", "conv10"],
                            optimizer=OptimizerSettings(batch=8, batch_values=(1, 2, 8, 16)),
                            epochs=EpochSettings(10, (1, 10, 50)), seed=42),
        "mnist_adam": _make(FIXTURES / "mnist_mlp.mlmodel", folder / "mnist_adam.mlmodel", ["auto"], depth=3,
                            optimizer=OptimizerSettings(kind=OptimizerKind.ADAM.value, learning_rate=0.01, batch=32)),
        "split_1d": _make(FIXTURES / "split_1d.mlmodel", folder / "split_1d.mlmodel", ["Conv_7"], loss="mse",
                          loss_input="Sigmoid_8"),
        "regressor": _make(FIXTURES / "regressor.mlmodel", folder / "regressor.mlmodel", ["dense_2", "dense_1"]),
        "pipeline": _make(FIXTURES / "pipeline.mlmodel", folder / "pipeline.mlmodel", ["classifier"]),
        "quickdraw": _make(SHARED_MODELS / "quickdraw_classifier.mlmodel", folder / "quickdraw.mlmodel", ["auto"]),
        "knn_drawing": _knn_drawing_pipeline(folder / "UpdatableDrawingClassifier.mlmodel"),
        "awkward_names": _awkward_names(folder / "awkward.mlmodel"),
    }
    assert list(models) == MADE_UPDATABLE
    for path in COMMITTED_UPDATABLE:
        models[path.stem] = folder / path.name
        shutil.copyfile(path, models[path.stem])
    return models
