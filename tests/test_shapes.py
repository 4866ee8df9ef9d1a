"""The rank-5 shaper's bookkeeping: constraints count their changes, and skipping idempotent layers whose blobs
did not change gives exactly the shapes of running every layer on every pass."""

from __future__ import annotations

import pytest

import mlsurgery.shapes as shapes
from mlsurgery.io import load_spec
from mlsurgery.network import find_networks
from mlsurgery.shapes.ranges import Constraint, Range, ShapeError

from conftest import FIXTURES, shared_models


def test_a_constraint_counts_changes_and_only_changes():
    constraint = Constraint("x")
    constraint.set("channel", 3)
    assert constraint.version == 1
    constraint.set("channel", 3)
    constraint.update("channel", Range.bounded(1, 5))  # [3, 3] already lies inside
    constraint.update("batch", constraint["batch"])
    assert constraint.version == 1
    constraint.update("height", Range.bounded(2, 9))
    constraint.lower_bound("height", 4)
    assert constraint.version == 3
    other = Constraint("y")
    other.copy_from(constraint)
    assert other.version == 2 and other["channel"] is constraint["channel"]
    other.copy_from(constraint)
    assert other.version == 2
    with pytest.raises(ShapeError):
        constraint.set("channel", 4)
    assert constraint.version == 3


def _final_shapes(spec) -> list:
    found = []
    for location in find_networks(spec):
        try:
            shaper = shapes.Shaper(location.model.description, location.network.layers)
        except ShapeError as error:
            found.append(str(error))
            continue
        found.append({blob: repr(constraint.ranges) for blob, constraint in shaper.shapes.items()})
    return found


@pytest.mark.parametrize("path", [*shared_models(), *sorted(FIXTURES.glob("*.mlmodel"))], ids=lambda p: p.name)
def test_skipping_unchanged_layers_gives_the_shapes_of_running_them_all(path, monkeypatch):
    spec = load_spec(path)
    skipping = _final_shapes(spec)
    monkeypatch.setattr(shapes, "IDEMPOTENT_SHAPES", frozenset())  # every layer runs on every pass
    assert _final_shapes(spec) == skipping


def test_a_layer_that_reads_a_blob_tightened_later_runs_again():
    """concat(x, y) runs before the innerProduct that fixes y at 3 channels: only the backward pass, running the
    concat again, gives z its 2 + 3 channels (concat reads its second input, so it is never skipped)."""
    from coremltools.proto import Model_pb2

    spec = Model_pb2.Model()
    feature = spec.description.input.add()
    feature.name = "x"
    feature.type.multiArrayType.shape.append(2)
    concat = spec.neuralNetwork.layers.add()
    concat.name, concat.concat.sequenceConcat = "join", False
    concat.input.extend(["x", "y"])
    concat.output.append("z")
    dense = spec.neuralNetwork.layers.add()
    dense.name = "dense"
    dense.innerProduct.inputChannels, dense.innerProduct.outputChannels = 3, 4
    dense.input.append("y")
    dense.output.append("w")
    shaper = shapes.Shaper(spec.description, spec.neuralNetwork.layers)
    assert (shaper.shapes["z"]["channel"].minimum.val, shaper.shapes["z"]["channel"].maximum.val) == (5, 5)
