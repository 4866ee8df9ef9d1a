"""One benchmark case per process: ``python benchmarks/cases.py CASE MODEL OUT`` prints {"seconds": …}.

Imports happen before the clock starts, so the seconds are the work itself: reading, parsing, the surgery,
serializing and writing (with fsync, as ``save_spec`` does). ``benchmarks/run.py`` runs each case in a fresh
process so its peak resident memory can be read from the kernel.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlsurgery._proto import model_pb2  # noqa: E402
from mlsurgery.io import load_spec, save_spec  # noqa: E402
from mlsurgery.ops.precision import convert_fp16_to_fp32, dequantize_layers  # noqa: E402
from mlsurgery.ops.reinit import reinit_layers  # noqa: E402
from mlsurgery.ops.widen import widen_classifier  # noqa: E402

try:  # the make-updatable step of the job, when that operation exists
    from mlsurgery.ops.make_updatable import make_updatable
    from mlsurgery.validate import validate_spec
except ImportError:
    make_updatable = validate_spec = None

DENSE_LAYERS = ["fc6", "fc7", "fc8"]


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


def widen(model: Path, out: Path) -> None:
    spec = load_spec(model)
    widen_classifier(spec, "fc8", 1010, init="kaiming", rng=np.random.default_rng(0))
    save_spec(spec, out, source=model)


def reinit(model: Path, out: Path) -> None:
    spec = load_spec(model)
    reinit_layers(spec, ["fc6"], rng=np.random.default_rng(0))
    save_spec(spec, out, source=model)


def reinit_dense(model: Path, out: Path) -> None:
    spec = load_spec(model)
    reinit_layers(spec, DENSE_LAYERS, rng=np.random.default_rng(0))
    save_spec(spec, out, source=model)


def to_fp32(model: Path, out: Path) -> None:
    spec = load_spec(model)
    convert_fp16_to_fp32(spec)
    save_spec(spec, out, source=model)


def dequantize(model: Path, out: Path) -> None:
    spec = load_spec(model)
    layers = [layer.name for layer in spec.neuralNetworkClassifier.layers
              if layer.WhichOneof("layer") in ("convolution", "innerProduct")]
    dequantize_layers(spec, layers)
    save_spec(spec, out, source=model)


def job(model: Path, out: Path) -> None:
    """hollance/coreml-training's make_nn.py on VGG16: widen the classifier to 10 more classes with zero rows,
    re-draw it Kaiming-uniform, make it updatable (cross-entropy, SGD, epochs), validate, save."""
    spec = load_spec(model)
    widen_classifier(spec, "fc8", 1010)
    reinit_layers(spec, ["fc8"], rng=np.random.default_rng(0))
    if make_updatable is not None:
        make_updatable(spec, ["fc8"])
        if not validate_spec(spec).valid:
            raise SystemExit("the job produced a model Core ML would reject")
    save_spec(spec, out, source=model)


CASES = {function.__name__: function
         for function in (bare, bare_nosync, widen, reinit, reinit_dense, to_fp32, dequantize, job)}


def main() -> None:
    case, model, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    start = time.perf_counter()
    CASES[case](model, out)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "job_includes_make_updatable": make_updatable is not None}))


if __name__ == "__main__":
    main()
