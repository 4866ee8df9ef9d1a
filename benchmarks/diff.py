"""`mlsurgery diff` on two VGG16-sized models (553 MB each) against the bare parse of the same two files (issue 20).

    python benchmarks/diff.py [--repeat 3] [--workdir DIR]

Three pairs, each a fresh process, fastest of the rounds, with its peak resident memory (ru_maxrss):
- the same model twice (nothing to compare past protobuf's equality);
- "trained": every value of fc8 (4 M) and its bias changed, as training the classifier head would;
- "fc6 touched": one value in a thousand of fc6 (the 411 MB array) changed.
The floor is a process that reads and parses both files and nothing else. Target: diff at the speed of a parse,
i.e. close to the floor (the ratio is printed). Needs about 3 GB of disk in the work folder and 4 GB of RAM.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PARSE_BOTH = ("import sys\nfrom mlsurgery.io import load_spec\n"
              "a, b = load_spec(sys.argv[1]), load_spec(sys.argv[2])\n")


def _changed_copy(source: Path, output: Path, layer_name: str, every: int) -> Path:
    import numpy as np

    from mlsurgery.io import load_spec, save_spec
    from mlsurgery.weights import float_values, set_float_values

    spec = load_spec(source)
    layer = next(layer for layer in spec.neuralNetworkClassifier.layers if layer.name == layer_name)
    for weights in (layer.innerProduct.weights, layer.innerProduct.bias) if every == 1 else \
            (layer.innerProduct.weights,):
        values = float_values(weights).copy()
        values[::every] += np.float32(0.01)
        set_float_values(weights, values)
    save_spec(spec, output)
    return output


def _run(command: list[str]) -> tuple[float, int, int]:
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.stderr.close()
    return seconds, os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024


def main() -> int:
    from vgg16_spec import build

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    options = parser.parse_args()
    folder = options.workdir or Path(tempfile.mkdtemp(prefix="mlsurgery-diff-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    original = folder / "vgg16.mlmodel"
    if not original.exists():
        build(original)
    pairs = {"same model twice": original,
             "trained: fc8 weights and bias, every value": folder / "vgg16_fc8.mlmodel",
             "fc6 touched: 1 value in 1000 of 102.8 M": folder / "vgg16_fc6.mlmodel"}
    if not pairs["trained: fc8 weights and bias, every value"].exists():
        _changed_copy(original, pairs["trained: fc8 weights and bias, every value"], "fc8", 1)
    if not pairs["fc6 touched: 1 value in 1000 of 102.8 M"].exists():
        _changed_copy(original, pairs["fc6 touched: 1 value in 1000 of 102.8 M"], "fc6", 1000)
    size = original.stat().st_size
    print(f"{original.name}: {size / 1e6:.0f} MB; fastest of {options.repeat}; peak memory / one file's size")
    rows = []
    for name, other in pairs.items():
        floor = min(_run([sys.executable, "-c", PARSE_BOTH, str(original), str(other)])
                    for _ in range(options.repeat))
        diff = min(_run([sys.executable, "-m", "mlsurgery", "diff", str(original), str(other), "--format", "json"])
                   for _ in range(options.repeat))
        expected_code = 0 if other == original else 1
        if diff[1] != expected_code:
            print(f"  {name}: mlsurgery diff exited {diff[1]}, expected {expected_code}", file=sys.stderr)
            return 1
        rows.append((name, floor, diff))
    print(f"  {'pair':45s} {'parse both':>11s} {'diff':>8s} {'ratio':>6s} {'peak (parse)':>13s} {'peak (diff)':>12s}")
    for name, floor, diff in rows:
        print(f"  {name:45s} {floor[0]:9.2f} s {diff[0]:6.2f} s {diff[0] / floor[0]:6.2f} "
              f"{floor[2] / size:12.2f}× {diff[2] / size:11.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
