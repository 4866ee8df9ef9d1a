"""Training-input descriptions and model metadata: set by name, only what is asked, on every copy in a pipeline."""

import pytest

from conftest import FIXTURES
from mlsurgery.errors import UsageError
from mlsurgery.network import pipeline_stages
from mlsurgery.io import load_spec
from mlsurgery.ops.describe import describe_training_inputs, set_metadata
from mlsurgery.ops.loss import set_loss
from mlsurgery.ops.mark_updatable import mark_updatable


def _with_loss(name: str, layers: list[str]):
    spec = load_spec(FIXTURES / name)
    mark_updatable(spec, layers)
    set_loss(spec)
    return spec


def _descriptions(description) -> dict[str, str]:
    return {feature.name: feature.shortDescription for feature in description.trainingInput}


def test_describes_training_inputs_by_name_as_the_article_does():
    spec = _with_loss("turi_squeezenet.mlmodel", ["fullyconnected0"])

    changes = describe_training_inputs(spec, {"image": "Example image", "label": "True label"})

    assert _descriptions(spec.description) == {"image": "Example image", "label": "True label"}
    assert [str(change) for change in changes] == [
        "training input image: description 'Input image' → 'Example image'",
        "training input label: description '' → 'True label'",
    ]
    # The prediction input keeps its own description: only the training copy is described.
    assert spec.description.input[0].shortDescription == "Input image"


def test_an_unchanged_description_is_not_reported():
    spec = _with_loss("turi_squeezenet.mlmodel", ["fullyconnected0"])
    describe_training_inputs(spec, {"label": "True label"})

    assert len(describe_training_inputs(spec, {"label": "True label"})) == 0


def test_describes_every_copy_of_a_pipelines_training_inputs():
    spec = _with_loss("pipeline.mlmodel", ["classifier"])

    describe_training_inputs(spec, {"features": "Sixteen measurements"})

    stage = pipeline_stages(spec)[-1]
    assert _descriptions(spec.description)["features"] == "Sixteen measurements"
    assert "features" not in _descriptions(stage.description)  # the stage's own training input is 'embedding'
    describe_training_inputs(spec, {"label": "True direction"})
    assert _descriptions(spec.description)["label"] == _descriptions(stage.description)["label"] == "True direction"


def test_unknown_training_input_names_the_existing_ones_and_changes_nothing():
    spec = _with_loss("turi_squeezenet.mlmodel", ["fullyconnected0"])

    with pytest.raises(UsageError, match=r"no training input named 'labels': its training inputs are image, label"):
        describe_training_inputs(spec, {"image": "Example image", "labels": "True label"})
    assert _descriptions(spec.description)["image"] == "Input image"


def test_training_inputs_exist_only_after_a_loss():
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")

    with pytest.raises(UsageError, match="no training inputs yet; attach a loss first"):
        describe_training_inputs(spec, {"image": "Example image"})


def test_metadata_sets_given_fields_leaves_none_alone_and_clears_empty_ones():
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    metadata = spec.description.metadata
    assert metadata.author == "mlsurgery fixtures"

    changes = set_metadata(spec, short_description="Updatable digits", license="", version="2.0")

    assert (metadata.shortDescription, metadata.author, metadata.license, metadata.versionString) == \
        ("Updatable digits", "mlsurgery fixtures", "", "2.0")
    assert [change.detail for change in changes] == [
        "shortDescription 'MNIST digit classifier: flatten + three dense layers + softmax (random weights).' → "
        "'Updatable digits'",
        "license 'BSD-3-Clause' → ''",
        "versionString '' → '2.0'",
    ]


def test_user_defined_entries_are_added_replaced_and_removed_one_by_one():
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    user_defined = spec.description.metadata.userDefined
    set_metadata(spec, user_defined={"keep": "1", "replace": "old", "remove": "x"})

    changes = set_metadata(spec, user_defined={"replace": "new", "remove": None, "absent": None, "keep": "1"})

    assert dict(user_defined) == {"keep": "1", "replace": "new"}
    assert [change.detail for change in changes] == ["userDefined['replace'] 'old' → 'new'",
                                                     "userDefined['remove'] removed (was 'x')"]


def test_metadata_without_arguments_changes_nothing():
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    before = spec.SerializeToString(deterministic=True)

    assert len(set_metadata(spec)) == 0
    assert spec.SerializeToString(deterministic=True) == before
