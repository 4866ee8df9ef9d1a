"""make-updatable then train on a recurrent layer (simpleRecurrent, gru, uniDirectionalLSTM) followed by a dense
head, under the rank-5 and the exact array mapping, with and without a declared output shape: the MSE target must
take the dense layer's shape (Core ML feeds the loss its input and target element for element)."""

import json

import numpy as np
import pytest

from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec

HIDDEN, FEATURES, STEPS, OUTPUTS = 6, 4, 5, 2


def _recurrent(builder, kind: str, rng, source: str, output: str, exact_ranks: bool) -> None:
    def weights(*shape):
        return rng.normal(0, 0.4, shape).astype(np.float32)

    if kind == "lstm":
        builder.add_unilstm("rnn", [weights(HIDDEN, HIDDEN) for _ in range(4)],
                            [weights(HIDDEN, FEATURES) for _ in range(4)], [weights(HIDDEN) for _ in range(4)],
                            HIDDEN, FEATURES, [source], [output, "h", "c"])
    elif kind == "gru":
        builder.add_gru("rnn", [weights(HIDDEN, HIDDEN) for _ in range(3)],
                        [weights(HIDDEN, FEATURES) for _ in range(3)], [weights(HIDDEN) for _ in range(3)],
                        HIDDEN, FEATURES, [source], [output, "h"])
    else:
        # Core ML's simpleRecurrent takes its initial state as a second input (NeuralNetworkLayerValidator.cpp).
        initial = np.zeros(HIDDEN, np.float32)
        if exact_ranks:
            builder.add_load_constant_nd("h0", "h0", initial, (1, 1, HIDDEN, 1, 1))
        else:
            builder.add_load_constant("h0", "h0", initial, [HIDDEN, 1, 1])
        builder.add_simple_rnn("rnn", weights(HIDDEN, HIDDEN), weights(HIDDEN, FEATURES), weights(HIDDEN), HIDDEN,
                               FEATURES, "TANH", [source, "h0"], [output, "h"])


def _network(kind: str, declared: bool, exact_ranks: bool):
    """x → recurrent → innerProduct → y. Under the exact mapping x is [Seq, Batch, C] and is expanded to the
    [Seq, Batch, C, 1, 1] recurrent layers read; under the rank-5 mapping x is [C] (one step)."""
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    rng = np.random.default_rng(3)
    if exact_ranks:
        output = datatypes.Array(1, 1, OUTPUTS, 1, 1) if declared else None
        builder = NeuralNetworkBuilder([("x", datatypes.Array(STEPS, 1, FEATURES))], [("y", output)],
                                       disable_rank5_shape_mapping=True)
        builder.add_expand_dims("to_rank5", "x", "x5", axes=[-1, -2])
        _recurrent(builder, kind, rng, "x5", "hidden", exact_ranks)
    else:
        output = datatypes.Array(OUTPUTS) if declared else None
        builder = NeuralNetworkBuilder([("x", datatypes.Array(FEATURES))], [("y", output)])
        _recurrent(builder, kind, rng, "x", "hidden", exact_ranks)
    builder.add_inner_product("dense", W=rng.normal(0, 0.4, (OUTPUTS, HIDDEN)).astype(np.float32),
                              b=np.zeros(OUTPUTS, np.float32), input_channels=HIDDEN, output_channels=OUTPUTS,
                              has_bias=True, input_name="hidden", output_name="y")
    return builder.spec


@pytest.mark.parametrize("exact_ranks", [False, True], ids=["rank5", "exact"])
@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_recurrent_then_dense_trains_with_a_target_shaped_like_the_dense_output(run_cli, tmp_path, kind, declared,
                                                                                exact_ranks):
    source = tmp_path / "model.mlmodel"
    source.write_bytes(_network(kind, declared, exact_ranks).SerializeToString())
    updatable = tmp_path / "updatable.mlmodel"
    result = run_cli("make-updatable", source, "--layers", "auto", "--fix", "--epochs", "20", "--lr", "0.1",
                     "-o", updatable)
    assert result.exit_code == 0, result.stderr
    spec = load_spec(updatable)
    assert validate_spec(spec).valid
    (target,) = [f for f in spec.description.trainingInput if f.name == "y_true"]
    # innerProduct writes [Seq=1, Batch, OUTPUTS, 1, 1]: declared as such under the exact mapping, as [OUTPUTS]
    # (which Core ML maps to [1, 1, OUTPUTS, 1, 1]) under the rank-5 mapping.
    expected = [1, 1, OUTPUTS, 1, 1] if exact_ranks else [OUTPUTS]
    assert list(target.type.multiArrayType.shape) == expected

    rng = np.random.default_rng(7)
    count = 96
    if exact_ranks:
        xs = rng.uniform(-1, 1, (count, STEPS, 1, FEATURES)).astype(np.float32)
        summary = xs[:, -1, 0, :]
    else:
        xs = rng.uniform(-1, 1, (count, FEATURES)).astype(np.float32)
        summary = xs
    # Targets an independent function of the input: two fixed mixtures of the (last step's) features.
    targets = np.stack([summary[:, 0] - 0.5 * summary[:, 1], summary[:, 2] + summary[:, 3]], axis=1)
    data = tmp_path / "data.npz"
    np.savez(data, x=xs, y_true=targets.reshape(count, *expected).astype(np.float64))
    trained = tmp_path / "trained.mlmodel"
    result = run_cli("train", updatable, data, "-o", trained, "--format", "json")
    assert result.exit_code == 0, result.stderr
    history = json.loads(result.stdout)["history"]
    assert history[-1]["mean_loss"] < 0.9 * history[0]["mean_loss"], history
    assert validate_spec(load_spec(trained)).valid
