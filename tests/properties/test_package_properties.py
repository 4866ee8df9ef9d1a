"""Mutated .mlpackage folders (manifest, spec or weight file truncated, bytes flipped, inserted or deleted): the
package reader loads them or refuses them in one line, never anything else, and inspect summarises what loads."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given, strategies as st

from mlsurgery.errors import MLSurgeryError
from mlsurgery.io import load_spec
from mlsurgery.inspection import summarize
from packages import SPEC, WEIGHTS, ml_program_package

import properties.strategies  # noqa: F401  (loads the fixed profile)

PARTS = {"manifest": Path("Manifest.json"), "spec": SPEC, "weights": WEIGHTS}


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return ml_program_package(tmp_path_factory.mktemp("original"))


@st.composite
def mutations(draw):
    part = draw(st.sampled_from(sorted(PARTS)))
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        edits.append((kind, draw(st.floats(0, 1)), draw(st.integers(1, 255)), draw(st.binary(min_size=1, max_size=8))))
    return part, edits


def _mutate(data: bytearray, edits) -> bytes:
    for kind, where, value, inserted in edits:
        at = int(where * max(0, len(data) - 1))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip" and data:
            data[at] ^= value
        elif kind == "insert":
            data[at:at] = inserted
        else:
            del data[at:at + value]
    return bytes(data)


@given(mutation=mutations())
def test_a_mutated_package_loads_or_is_refused_in_one_line(package, mutation):
    part, edits = mutation
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / package.name
        shutil.copytree(package, copy)
        target = copy / PARTS[part]
        target.write_bytes(_mutate(bytearray(target.read_bytes()), edits))
        try:
            spec = load_spec(copy)
        except MLSurgeryError as refused:
            event(f"{part}: refused")
            assert "\n" not in str(refused) and str(copy) in str(refused)
            return
        event(f"{part}: loaded")
        summary = summarize(spec, str(copy), unconvertible=[])
        assert summary["type"] == spec.WhichOneof("Type")
