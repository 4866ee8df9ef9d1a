"""Properties over generated and mutated input: the loader, the validator, every surgery operation and the recipe
parser raise nothing but MLSurgeryError, never change their input, and every output validates or is refused."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from hypothesis import event, given, strategies as st

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.errors import InvalidModelError, MLSurgeryError
from mlsurgery.io import load_spec, parse_spec, serialize_spec
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.ops.precision import convert_fp16_to_fp32, dequantize_layers
from mlsurgery.ops.inits import REINIT_INITS, WIDEN_INITS
from mlsurgery.ops.reinit import reinit_layers
from mlsurgery.ops.widen import widen_classifier
from mlsurgery.inspection import summarize
from mlsurgery.validate import validate_spec

from properties.strategies import layer_names, mutated_specs, network, network_specs

# Small real files (a few KB to a few hundred KB) whose bytes the loader tests mutate.
REAL_FILES = {path.name: path.read_bytes() for path in sorted(
    list(FIXTURES.rglob("*.mlmodel")) + list(SHARED_MODELS.glob("*.mlmodel"))) if path.stat().st_size < 600_000}


@st.composite
def mutated_bytes(draw):
    data = bytearray(REAL_FILES[draw(st.sampled_from(sorted(REAL_FILES)))])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at:at + draw(st.integers(1, 64))]
    return bytes(data)


def _load_or_refuse(data: bytes):
    try:
        return parse_spec(data, source="fuzz.mlmodel")
    except MLSurgeryError as error:
        assert "\n" not in str(error) and "fuzz.mlmodel" in str(error)
        return None


def _validate_and_summarize(spec) -> None:
    report = validate_spec(spec)
    assert report.valid == (not any(finding.severity == "error" for finding in report.findings))
    try:
        summarize(spec, "fuzz.mlmodel")
    except MLSurgeryError:
        pass


@given(st.binary(max_size=512))
def test_random_bytes_load_or_are_refused_in_one_line(data):
    spec = _load_or_refuse(data)
    if spec is not None:
        _validate_and_summarize(spec)


@given(mutated_bytes())
def test_mutated_real_files_load_or_are_refused_and_loaded_ones_validate_without_crashing(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("load") / "fuzz.mlmodel"
    path.write_bytes(data)
    try:
        spec = load_spec(path)
    except MLSurgeryError as error:
        assert "\n" not in str(error) and "fuzz.mlmodel" in str(error)
        spec = None
    assert path.read_bytes() == data  # loading never writes
    if spec is not None:
        _validate_and_summarize(spec)


@given(mutated_specs())
def test_validator_and_inspect_never_crash_on_mutated_specs(spec):
    before = serialize_spec(spec)
    _validate_and_summarize(spec)
    assert serialize_spec(spec) == before  # validating and inspecting change nothing


@given(network_specs())
def test_generated_specs_are_valid(spec):
    report = validate_spec(spec)
    assert report.valid, [finding.message for finding in report.findings]


def _operation(draw, spec):
    """A drawn operation with drawn arguments, as a function spec -> Changes."""
    names = layer_names(spec)
    chosen = draw(st.lists(st.sampled_from(names + ["no_such_layer"]), min_size=1, max_size=3))
    rng = np.random.default_rng(draw(st.integers(0, 100)))
    kind = draw(st.sampled_from(["widen", "reinit", "make-updatable", "to-fp32", "dequantize"]))
    if kind == "widen":
        layer, classes, init = chosen[0], draw(st.integers(0, 12)), draw(st.sampled_from(WIDEN_INITS))
        return kind, lambda s: widen_classifier(s, layer, classes, init=init, rng=rng)
    if kind == "reinit":
        init = draw(st.sampled_from(REINIT_INITS))
        return kind, lambda s: reinit_layers(s, chosen, init=init, rng=rng)
    if kind == "make-updatable":
        layers = ["auto"] if draw(st.booleans()) else chosen
        options = dict(depth=draw(st.integers(1, 4)), loss=draw(st.sampled_from([None, "mse", "cross-entropy"])),
                       to_fp32=draw(st.booleans()), shuffle=draw(st.booleans()))
        return kind, lambda s: make_updatable(s, layers, **options)
    if kind == "to-fp32":
        return kind, convert_fp16_to_fp32
    return kind, lambda s: dequantize_layers(s, chosen)


def _apply(operation, spec):
    """Run ``operation``: it returns (the spec changed in place) or refuses with MLSurgeryError."""
    try:
        operation(spec)
    except MLSurgeryError as error:
        assert "\n" not in str(error)
        event(f"refused: {type(error).__name__}")
        return False
    event("applied")
    return True


@given(network_specs(), st.data())
def test_every_operation_on_a_valid_spec_gives_a_valid_spec_or_refuses(spec, data):
    kind, operation = _operation(data.draw, spec)
    if _apply(operation, spec):
        report = validate_spec(spec)
        first = report.coreml_first
        assert report.valid, f"{kind} produced a model Core ML rejects: {first.code} {first.message}"
        assert validate_spec(parse_spec(serialize_spec(spec))).valid  # and it survives the trip through a file


@given(mutated_specs(), st.data())
def test_every_operation_on_a_mutated_spec_is_written_only_if_valid(tmp_path_factory, spec, data):
    from mlsurgery.jobs import save_if_valid
    from mlsurgery.ops.changes import Changes

    kind, operation = _operation(data.draw, spec)
    if not _apply(operation, spec):
        return
    output = tmp_path_factory.mktemp("out") / "out.mlmodel"
    try:
        save_if_valid(spec, output, source=None, changes=Changes(kind))
    except InvalidModelError:
        assert not output.exists()
        return
    except MLSurgeryError:
        return
    assert validate_spec(parse_spec(output.read_bytes())).valid


# --- recipes -------------------------------------------------------------------------------------------------

_KEYS = st.sampled_from(["input", "seed", "steps", "widen", "reinit", "make-updatable", "save", "layer",
                         "layers", "num_classes", "output", "init", "loss", "optimizer", "epochs", "typo"])
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**40), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["fixtures/mnist_mlp.mlmodel", "dense_1", "out/x.mlmodel",
                                                           "../../etc/passwd", "/tmp", "auto"]))
_YAML_VALUES = st.recursive(_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(_KEYS, inner, max_size=4)),
                            max_leaves=12)


@given(st.one_of(_YAML_VALUES.map(lambda value: yaml.safe_dump(value, allow_unicode=True)),
                 st.text(max_size=200)),
       st.lists(st.text(max_size=20), max_size=2))
def test_recipe_parser_refuses_anything_it_cannot_run_with_its_own_error(tmp_path_factory, text, overrides):
    from mlsurgery.recipe import load_recipe

    folder = tmp_path_factory.mktemp("recipe")
    path = folder / "recipe.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        load_recipe(path, overrides)
    except MLSurgeryError as error:
        assert "\n" not in str(error).strip(), str(error)
    assert path.read_bytes() == text.encode("utf-8", "surrogatepass")
