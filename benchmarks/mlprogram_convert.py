"""How long `mlsurgery convert` takes on a ~100 MB ML Program package, and how much memory it needs (a report).

    python benchmarks/mlprogram_convert.py [--workdir DIR] [--json OUT]

Builds, with coremltools 9 from a PyTorch model, an image classifier of 1000 classes whose weights are ~101 MB in
fp32 (a convolution stem and three dense layers, 26.5 M parameters) as an fp32 ML Program (iOS 15) and as an fp16
one (iOS 16, 51 MB of weights, converted to a 101 MB fp32 NeuralNetwork). Each conversion runs in a fresh
process, timed in phases: importing coremltools, reading the package, converting (MIL reader, weight expansion,
NeuralNetwork backend, description), and saving the .mlmodel; the process's peak resident memory is read with
``os.wait4``. The times are for a 2-vCPU VM shared with other jobs; they are not targets.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def build_packages(folder: Path) -> dict[str, Path]:
    import warnings

    import coremltools as ct
    import torch

    nn = torch.nn

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4))
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 16 * 16, 2304), nn.ReLU(),
                                      nn.Linear(2304, 2304), nn.ReLU(), nn.Linear(2304, 1000))

        def forward(self, x):
            return torch.softmax(self.head(self.stem(x)), dim=1)

    torch.manual_seed(0)
    module = Classifier().eval()
    packages = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, torch.rand(1, 3, 64, 64))
        for name, precision, target in (("fp32", ct.precision.FLOAT32, ct.target.iOS15),
                                        ("fp16", ct.precision.FLOAT16, ct.target.iOS16)):
            path = folder / f"classifier_{name}.mlpackage"
            if not path.exists():
                model = ct.convert(traced, convert_to="mlprogram", compute_precision=precision,
                                   minimum_deployment_target=target,
                                   inputs=[ct.ImageType(name="image", shape=(1, 3, 64, 64), scale=1 / 255)],
                                   classifier_config=ct.ClassifierConfig(list(range(1000))))
                model.save(str(path))
            packages[name] = path
    return packages


def _child(package: str, output: str) -> None:
    """One conversion, timed by phase; prints a JSON line."""
    sys.path.insert(0, str(ROOT))
    times = {}
    start = time.perf_counter()
    import coremltools  # noqa: F401  (its import is a phase of its own: seconds)

    times["import coremltools"] = time.perf_counter() - start
    from mlsurgery.io import load_package, save_spec
    from mlsurgery.mlprogram.convert import to_neural_network

    mark = time.perf_counter()
    loaded = load_package(package)
    spec, weights = loaded.spec, loaded.weights_dir
    times["read package"] = time.perf_counter() - mark
    mark = time.perf_counter()
    conversion = to_neural_network(spec, weights, source=package)
    times["convert"] = time.perf_counter() - mark
    mark = time.perf_counter()
    save_spec(conversion.spec, output)
    times["save .mlmodel"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    print(json.dumps(times))


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="where to build and keep the packages (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.workdir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        results = {}
        for name, package in build_packages(folder).items():
            output = folder / f"classifier_{name}.mlmodel"
            child = subprocess.Popen([sys.executable, __file__, "--child", str(package), str(output)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            stdout = child.stdout.read()
            _, status, usage = os.wait4(child.pid, 0)
            if status != 0:
                raise SystemExit(f"conversion of {package} failed (status {status})")
            times = json.loads(stdout.strip().splitlines()[-1])
            results[name] = {"package MB": round(_size_mb(package), 1), "mlmodel MB": round(_size_mb(output), 1),
                             **{phase: round(seconds, 2) for phase, seconds in times.items()},
                             "peak MB": round(usage.ru_maxrss / 1024)}
            print(json.dumps({name: results[name]}), flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
