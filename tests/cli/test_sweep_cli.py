"""Every command on every fixture and real third-party model, and on mutations of them (truncated, bytes
flipped, fields dropped): a result or a one-line error with exit 1 or 2, never a traceback, never a changed input.

The CLI runs in-process: an exception that is not an MLSurgeryError escapes ``main`` and fails the test.
"""

from __future__ import annotations

import random
import shutil

import pytest

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery._proto import model_pb2

MODELS = sorted(FIXTURES.glob("*.mlmodel")) + sorted((FIXTURES / "zoo").glob("*.mlmodel")) + sorted(
    SHARED_MODELS.glob("*.mlmodel"))
PREDICT_LIMIT = 1_100_000  # predict on mutations of the small models only: the big ones take seconds each


def _network(spec):
    kind = spec.WhichOneof("Type")
    if kind in ("pipeline", "pipelineClassifier", "pipelineRegressor"):
        stages = spec.pipeline.models if kind == "pipeline" else getattr(spec, kind).pipeline.models
        return _network(stages[-1]) if stages else None
    network = getattr(spec, kind) if kind else None
    return network if network is not None and hasattr(network, "layers") else None


def _drop(field):
    def mutate(data: bytes) -> bytes:
        spec = model_pb2().Model()
        spec.ParseFromString(data)
        network = _network(spec)
        if field == "last layer" and network is not None and network.layers:
            del network.layers[-1]
        elif field == "outputs":
            del spec.description.output[:]
        elif field == "weights" and network is not None:
            for layer in network.layers:
                kind = layer.WhichOneof("layer")
                if kind in ("innerProduct", "convolution"):
                    getattr(layer, kind).weights.Clear()
                    break
        elif field == "blobs" and network is not None and network.layers:
            for layer in (network.layers[len(network.layers) // 2], network.layers[-1]):
                del layer.input[:]
                del layer.output[:]
        elif field == "layer kind" and network is not None and network.layers:
            middle = network.layers[len(network.layers) // 2]
            middle.ClearField(middle.WhichOneof("layer") or "name")
        return spec.SerializeToString()
    return mutate


def _flip(data: bytes) -> bytes:
    flipped = bytearray(data)
    chooser = random.Random(len(data))
    for _ in range(3):
        flipped[chooser.randrange(len(flipped))] ^= 0xFF
    return bytes(flipped)


MUTATIONS = {
    "original": lambda data: data,
    "truncated-half": lambda data: data[: len(data) // 2],
    "bytes-flipped": _flip,
    "no-last-layer": _drop("last layer"),
    "no-outputs": _drop("outputs"),
    "no-weights": _drop("weights"),
    "layer-kind-dropped": _drop("layer kind"),
    "layer-blobs-dropped": _drop("blobs"),
}


def _layer_names(path) -> tuple[str, str]:
    """(first, last) layer names of the trainable network, or placeholders when the file does not parse."""
    spec = model_pb2().Model()
    try:
        spec.ParseFromString(path.read_bytes())
        network = _network(spec)
    except Exception:  # noqa: BLE001 (the mutation may be anything; mlsurgery's own loader is what is under test)
        network = None
    if network is None or not network.layers:
        return "first", "last"
    return network.layers[0].name, network.layers[-1].name


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("model", MODELS, ids=lambda path: path.name)
def test_every_command_answers_without_a_traceback(run_cli, tmp_path, model, mutation):
    path = tmp_path / model.name
    path.write_bytes(MUTATIONS[mutation](model.read_bytes()))
    before = path.read_bytes()
    first, last = _layer_names(path)
    out = tmp_path / "out.mlmodel"
    commands = [
        ["inspect", path, "--format", "json"],
        ["validate", path],
        ["make-updatable", path, "--layers", "auto", "-o", out],
        ["diff", model, path],
    ]
    if mutation == "original":  # the other commands load through the same code; once per model keeps this fast
        commands += [
            ["contract", path, "--format", "json"],
            ["fix", path, "-o", out],
            ["make-knn", path, "-o", out],
            ["widen", path, "--layer", last, "--classes", "12", "-o", out],
            ["reinit", path, "--layers", first, "--seed", "0", "-o", out],
        ]
    if mutation == "original" or model.stat().st_size < PREDICT_LIMIT:
        commands.append(["predict", path, "--random-inputs"])
    for command in commands:
        result = run_cli(*command)
        assert result.exit_code in (0, 1, 2), (command, result.exit_code)
        assert "Traceback" not in result.stderr, (command, result.stderr)
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        if errors:
            assert len(errors) == 1 and errors[0].startswith("mlsurgery: error:"), (command, result.stderr)
        elif result.exit_code == 2:  # validate reports an unloadable file in its report, naming it
            assert command[0] == "validate" and path.name in result.stdout, (command, result.stdout)
        assert path.read_bytes() == before, f"{command[0]} changed its input"
        if out.exists():
            out.unlink()
    shutil.rmtree(tmp_path, ignore_errors=True)
