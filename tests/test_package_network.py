"""An .mlpackage holding a NeuralNetwork is handled exactly as the same spec in an .mlmodel: every command's
output is byte-for-byte the same (paths aside), and so is every model it writes."""

from __future__ import annotations

import pytest

from conftest import FIXTURES
from packages import network_package


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(the .mlmodel, the same spec saved by coremltools as an .mlpackage)."""
    folder = tmp_path_factory.mktemp("pair")
    model = folder / "mnist_mlp.mlmodel"
    model.write_bytes((FIXTURES / "mnist_mlp.mlmodel").read_bytes())
    return model, network_package(model, folder)


def _same_output(run_cli, pair, *args, written: str | None = None):
    model, package = pair
    results = []
    for path in (model, package):
        output = [] if written is None else ["-o", path.parent / f"{path.stem}{written}"]
        result = run_cli(*args[:1], path, *args[1:], *output)
        results.append((result.exit_code, result.stdout.replace(str(path), "MODEL"),
                        result.stderr.replace(str(path), "MODEL")))
    assert results[0] == results[1]
    assert results[0][0] in (0, 1), results[0]
    if written is not None:
        assert (model.parent / f"{model.stem}{written}").read_bytes() == \
            (package.parent / f"{package.stem}{written}").read_bytes()
    return results[0]


@pytest.mark.parametrize("args", [("inspect", "--format", "json"), ("inspect",), ("validate", "--format", "json"),
                                  ("predict", "--random-inputs", "--format", "json"), ("contract", "--format", "json")],
                         ids=lambda args: " ".join(args))
def test_reading_commands_print_the_same(run_cli, pair, args):
    _same_output(run_cli, pair, *args)


@pytest.mark.parametrize("args, suffix", [
    (("make-updatable", "--layers", "auto", "--fix"), "_updatable.mlmodel"),
    (("fix",), "_fixed.mlmodel"),
    (("make-knn",), "_knn.mlmodel"),
], ids=lambda value: value[0] if isinstance(value, tuple) else "")
def test_writing_commands_write_the_same_model(run_cli, pair, args, suffix):
    _same_output(run_cli, pair, *args, written=suffix)
