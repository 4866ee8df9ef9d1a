"""Training: parity with the same steps in PyTorch, MLUpdateTask's batching and overrides, and what changes."""

from __future__ import annotations

import numpy as np
import pytest

from conversion import convert, torch

from mlsurgery.engine import build_model
from mlsurgery.engine.errors import InputError
from mlsurgery.engine.training import (Dataset, TrainingParameters, apply_overrides, epoch_batches, epoch_orders,
                                       read_parameters, train, updatable_parameters)
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.ops.update_parameters import EpochSettings, OptimizerSettings

nn = torch.nn
STEPS = 10
BATCH = 4


class Classifier(nn.Module):
    """1 × 1 convolutions on a [6, 1, 1] input: the softmax over channels converts to the legacy softmax layer,
    which Core ML's cross-entropy loss requires (it refuses softmaxND, and backpropagates through no reshape)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(6, 8, 1)
        self.head = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        return torch.softmax(self.head(torch.relu(self.body(x))), dim=1)


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(torch.tanh(self.body(x)))


@pytest.fixture(scope="module")
def converted():
    torch.manual_seed(11)
    classifier, regressor = Classifier(), Regressor()
    return {"cross-entropy": (classifier, convert(classifier, [(1, 6, 1, 1)])),
            "mse": (regressor, convert(regressor, [(1, 6)]))}


def _updatable(spec, loss: str, optimizer: OptimizerSettings):
    updatable = type(spec)()
    updatable.CopyFrom(spec)
    layers = [layer for layer in updatable.neuralNetwork.layers
              if layer.WhichOneof("layer") in ("innerProduct", "convolution")]
    loss_input = updatable.neuralNetwork.layers[-1].output[0]
    make_updatable(updatable, [layers[-1].name], loss=loss, loss_input=loss_input, optimizer=optimizer,
                   epochs=EpochSettings(1), shuffle=False)
    return updatable, layers[-1].name


def _data(loss: str, count: int = STEPS * BATCH):
    rng = np.random.default_rng(5)
    if loss == "cross-entropy":
        return rng.standard_normal((count, 1, 6, 1, 1)).astype(np.float32), rng.integers(0, 3, size=count)
    return rng.standard_normal((count, 1, 6)).astype(np.float32), rng.standard_normal((count, 2)).astype(np.float32)


@pytest.mark.parametrize("loss", ["cross-entropy", "mse"])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_ten_steps_equal_the_same_steps_in_pytorch(converted, loss, kind):
    module, spec = converted[loss]
    settings = OptimizerSettings(kind=kind, learning_rate=0.05, batch=BATCH, momentum=0.9 if kind == "sgd" else 0)
    updatable, head_name = _updatable(spec, loss, settings)
    x, y = _data(loss)
    target = updatable.neuralNetwork.updateParams.lossLayers[0].WhichOneof("LossLayerType")
    target_name = getattr(updatable.neuralNetwork.updateParams.lossLayers[0], target).target
    targets = y.reshape(-1, 1) if loss == "cross-entropy" else y.reshape(len(y), 1, 2)
    result = train(updatable, Dataset({"x0": x, target_name: targets}, len(x)))

    # The same ten steps in the original PyTorch module: only the head trains, batches in order.
    reference = type(module)()
    reference.load_state_dict(module.state_dict())
    parameters = list(reference.head.parameters())
    if kind == "sgd":
        optimizer = torch.optim.SGD(parameters, lr=0.05, momentum=0.9)
    else:
        optimizer = torch.optim.Adam(parameters, lr=0.05, betas=(0.9, 0.999), eps=1e-8)
    for step in range(STEPS):
        batch = slice(step * BATCH, (step + 1) * BATCH)
        optimizer.zero_grad()
        out = reference(torch.from_numpy(x[batch, 0])).reshape(BATCH, -1)
        if loss == "cross-entropy":
            value = nn.functional.nll_loss(torch.log(out), torch.from_numpy(y[batch]).long())
        else:
            value = nn.functional.mse_loss(out, torch.from_numpy(y[batch]))
        value.backward()
        optimizer.step()

    head_layer = next(layer for layer in result.spec.neuralNetwork.layers if layer.name == head_name)
    head = getattr(head_layer, head_layer.WhichOneof("layer"))
    weights = np.array(head.weights.floatValue).reshape(reference.head.weight.shape)
    np.testing.assert_allclose(weights, reference.head.weight.detach().numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(np.array(head.bias.floatValue), reference.head.bias.detach().numpy(), atol=1e-5,
                               rtol=0)
    start_layer = next(layer for layer in updatable.neuralNetwork.layers if layer.name == head_name)
    start = np.array(getattr(start_layer, start_layer.WhichOneof("layer")).weights.floatValue)
    moved = np.abs(weights - start.reshape(weights.shape)).max()
    assert moved > 1e-3, "the head must actually have been trained"
    assert result.history[0].loss == pytest.approx(float(value.detach()), abs=1e-5)  # the last mini-batch's loss


def test_only_updatable_weights_change_and_the_input_spec_is_untouched(converted):
    module, spec = converted["cross-entropy"]
    updatable, head_name = _updatable(spec, "cross-entropy", OptimizerSettings(learning_rate=0.1, batch=BATCH))
    before = updatable.SerializeToString(deterministic=True)
    x, y = _data("cross-entropy")
    result = train(updatable, Dataset({"x0": x, _target(updatable): y.reshape(-1, 1)}, len(x)))
    assert updatable.SerializeToString(deterministic=True) == before
    for old, new in zip(updatable.neuralNetwork.layers, result.spec.neuralNetwork.layers):
        if old.name == head_name:
            assert old != new
        else:
            assert old == new, f"layer {old.name} changed"
    assert [f"{m.layer_name}.{m.weight_fields[n]}" for m, n, _ in updatable_parameters(build_model(updatable))] \
        == [f"{head_name}.weights", f"{head_name}.bias"]


def _target(spec) -> str:
    loss = spec.neuralNetwork.updateParams.lossLayers[0]
    return getattr(loss, loss.WhichOneof("LossLayerType")).target


def test_reusing_frozen_features_gives_the_numbers_of_full_forward_passes(converted):
    module, spec = converted["cross-entropy"]
    updatable, _ = _updatable(spec, "cross-entropy", OptimizerSettings(kind="adam", learning_rate=0.05, batch=3))
    x, y = _data("cross-entropy", 20)
    data = Dataset({"x0": x, _target(updatable): y.reshape(-1, 1)}, len(x))
    fast, full = train(updatable, data), train(updatable, data, reuse_frozen=False)
    assert [r.loss for r in fast.history] == pytest.approx([r.loss for r in full.history], abs=1e-6)
    # Equal up to float rounding: the frozen layers ran on other batch sizes (kernels may sum in another order).
    for a, b in zip(fast.spec.neuralNetwork.layers, full.spec.neuralNetwork.layers):
        weights_a, weights_b = (getattr(layer, layer.WhichOneof("layer")) for layer in (a, b))
        if a.WhichOneof("layer") == "convolution":
            np.testing.assert_allclose(weights_a.weights.floatValue, weights_b.weights.floatValue, atol=1e-6)


# --- MLUpdateTask's batching ---------------------------------------------------------------------------------

def test_thirty_examples_in_batches_of_eight_fill_the_last_batch_from_the_start():
    batches = epoch_batches(30, 8, np.arange(30))
    assert len(batches) == 4
    assert [list(b) for b in batches[:3]] == [list(range(0, 8)), list(range(8, 16)), list(range(16, 24))]
    assert list(batches[3]) == [24, 25, 26, 27, 28, 29, 0, 1]


def test_a_shuffled_epoch_fills_its_last_batch_from_the_start_of_its_own_order():
    order = np.random.default_rng(0).permutation(30)
    assert list(epoch_batches(30, 8, order)[3]) == list(order[24:]) + list(order[:2])


def _parameters(**changes) -> TrainingParameters:
    base = TrainingParameters("sgd", 0.1, 8, 3, True, 7)
    return TrainingParameters(**{**base.to_dict(), **changes})


def test_the_same_seed_gives_the_same_order_and_another_seed_another():
    first = [list(order) for order in epoch_orders(30, _parameters())]
    again = [list(order) for order in epoch_orders(30, _parameters())]
    other = [list(order) for order in epoch_orders(30, _parameters(seed=8))]
    assert first == again
    assert first != other
    assert first[0] != first[1], "every epoch draws a new order"
    assert [list(o) for o in epoch_orders(30, _parameters(shuffle=False))] == [list(range(30))] * 3


# --- overrides -----------------------------------------------------------------------------------------------

@pytest.fixture
def updatable_spec(converted):
    settings = OptimizerSettings(learning_rate=0.01, learning_rate_range=(0.0, 0.5), batch=8, batch_values=(4, 8))
    spec, _ = _updatable(converted["cross-entropy"][1], "cross-entropy", settings)
    return spec


def test_overrides_inside_the_allowed_values_apply(updatable_spec):
    parameters = apply_overrides(updatable_spec, read_parameters(updatable_spec),
                                 {"learningRate": "0.2", "miniBatchSize": "4", "epochs": "1", "shuffle": "false"})
    assert (parameters.learning_rate, parameters.mini_batch_size, parameters.shuffle) == (0.2, 4, False)


@pytest.mark.parametrize("key, value, message", [
    ("miniBatchSize", "16", "allows only 4, 8"),
    ("learningRate", "0.9", "allows 0 to 0.5"),
    ("epochs", "5", "allows only 1"),
    ("beta1", "0.5", "does not declare beta1"),
    ("batchSize", "4", "unknown parameter"),
    ("shuffle", "maybe", "expected true or false"),
])
def test_overrides_outside_the_allowed_values_are_refused(updatable_spec, key, value, message):
    with pytest.raises(InputError, match=message):
        apply_overrides(updatable_spec, read_parameters(updatable_spec), {key: value})
