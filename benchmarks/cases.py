"""One benchmark case per process: ``python benchmarks/cases.py CASE MODEL OUT`` prints {"seconds": …}.

Imports happen before the clock starts, so the seconds are the work itself: reading, parsing, the surgery,
validating where the CLI does, serializing and writing (with fsync, as ``save_spec`` does). The mlsurgery cases go
through ``mlsurgery.jobs`` exactly as the CLI commands do (``run_job``: load with the weights left in the file,
operate, validate, save atomically). ``benchmarks/run.py`` runs each case in a fresh process so its peak resident
memory can be read from the kernel.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlsurgery import jobs  # noqa: E402
from mlsurgery._proto import model_pb2  # noqa: E402
from mlsurgery.inspection import summarize  # noqa: E402
from mlsurgery.io import open_spec, opened_spec, save_spec  # noqa: E402
from mlsurgery.ops.make_updatable import make_updatable  # noqa: E402
from mlsurgery.ops.precision import convert_fp16_to_fp32, dequantize_layers  # noqa: E402
from mlsurgery.ops.reinit import reinit_layers, uniform_fill  # noqa: E402
from mlsurgery.ops.widen import widen_classifier  # noqa: E402
from mlsurgery.validate import validate_file, validate_spec  # noqa: E402
from mlsurgery.weights import CHUNK_VALUES  # noqa: E402

DENSE_LAYERS = ["fc6", "fc7", "fc8"]
FC6_VALUES = 25088 * 4096 + 4096  # fc6's weights and bias: what `reinit --layers fc6` draws


def bare(model: Path, out: Path) -> None:
    """The floor any tool pays: read, parse, serialize, write durably. No mlsurgery code."""
    spec = model_pb2().Model()
    spec.ParseFromString(model.read_bytes())
    data = spec.SerializeToString()
    with open(out, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def bare_nosync(model: Path, out: Path) -> None:
    """``bare`` without fsync, to show what durability costs on this machine."""
    spec = model_pb2().Model()
    spec.ParseFromString(model.read_bytes())
    out.write_bytes(spec.SerializeToString())


def numpy_draw(model: Path, out: Path) -> None:
    """NumPy's generator drawing fc6's 102.8 M uniform float32 values into one array (what reinit computes)."""
    values = np.empty(FC6_VALUES, dtype=np.float32)
    fill = uniform_fill(np.random.default_rng(0), np.sqrt(6 / 25088))
    for start in range(0, FC6_VALUES, CHUNK_VALUES):
        fill(values[start:start + CHUNK_VALUES], start)


def widen(model: Path, out: Path) -> None:
    """`mlsurgery widen MODEL --layer fc8 --classes 1010 --init kaiming`."""
    jobs.widen_file(model, out, "fc8", 1010, init="kaiming", rng=np.random.default_rng(0))


def reinit(model: Path, out: Path) -> None:
    """`mlsurgery reinit MODEL --layers fc6 --seed 0`."""
    jobs.reinit_file(model, out, ["fc6"], rng=np.random.default_rng(0))


def reinit_dense(model: Path, out: Path) -> None:
    jobs.reinit_file(model, out, DENSE_LAYERS, rng=np.random.default_rng(0))


def make_updatable_fc8(model: Path, out: Path) -> None:
    """`mlsurgery make-updatable MODEL --layers fc8` (cross-entropy on the softmax, SGD, epochs)."""
    jobs.make_updatable_file(model, out, ["fc8"])


def validate(model: Path, out: Path) -> None:
    """`mlsurgery validate MODEL`: load (weights left in the file) and every check."""
    if not validate_file(model).valid:
        raise SystemExit(f"{model}: expected a valid model")


def validate_rounds(model: Path, out: Path, rounds: int = 5) -> dict:
    """``validate`` timed as the C++ oracle is (the best of a few rounds of load + validate in one process), and
    as a CI run over a folder of models meets it after its first model (which also imports the checks)."""
    best = None
    for _ in range(rounds):
        start, cpu_start = time.perf_counter(), time.process_time()
        validate(model, out)
        timing = (time.perf_counter() - start, time.process_time() - cpu_start)
        best = timing if best is None else min(best, timing)
    return {"seconds": best[0], "cpu_seconds": best[1]}


def split(model: Path, out: Path) -> None:
    """`mlsurgery split MODEL --at relu7 --layers fc8`: a frozen backbone stage and an updatable fc8 head."""
    jobs.split_file(model, out, "relu7", layers=["fc8"])


def make_knn(model: Path, out: Path) -> None:
    """`mlsurgery make-knn MODEL --features relu7`: the network up to relu7 as a k-NN's feature extractor."""
    jobs.make_knn_file(model, out, "relu7")


def inspect(model: Path, out: Path) -> None:
    """`mlsurgery inspect MODEL --format json`: the summary of every layer (weights left in the file)."""
    with opened_spec(model) as spec:
        json.dumps(summarize(spec, str(model)))


def to_fp32(model: Path, out: Path) -> None:
    spec = open_spec(model)
    convert_fp16_to_fp32(spec)
    save_spec(spec, out, source=model)


def dequantize(model: Path, out: Path) -> None:
    spec = open_spec(model)
    layers = [layer.name for layer in spec.neuralNetworkClassifier.layers
              if layer.WhichOneof("layer") in ("convolution", "innerProduct")]
    dequantize_layers(spec, layers)
    save_spec(spec, out, source=model)


def job(model: Path, out: Path) -> None:
    """hollance/coreml-training's make_nn.py on VGG16: widen the classifier to 10 more classes with zero rows,
    re-draw it Kaiming-uniform, make it updatable (cross-entropy, SGD, epochs), validate, save."""
    spec = open_spec(model)
    widen_classifier(spec, "fc8", 1010)
    reinit_layers(spec, ["fc8"], rng=np.random.default_rng(0))
    make_updatable(spec, ["fc8"])
    if not validate_spec(spec).valid:
        raise SystemExit("the job produced a model Core ML would reject")
    save_spec(spec, out, source=model)


CASES = {function.__name__: function
         for function in (bare, bare_nosync, numpy_draw, widen, reinit, reinit_dense, make_updatable_fc8, validate,
                          validate_rounds, split, make_knn, inspect, to_fp32, dequantize, job)}


def main() -> None:
    case, model, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    start, cpu_start = time.perf_counter(), time.process_time()
    timed_itself = CASES[case](model, out)  # a case that times its own rounds returns its figures
    seconds = time.perf_counter() - start
    print(json.dumps(timed_itself or {"seconds": seconds, "cpu_seconds": time.process_time() - cpu_start}))


if __name__ == "__main__":
    main()
