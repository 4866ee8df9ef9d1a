"""Peak memory of ``mlsurgery predict`` on a CARN-sized fully convolutional network (a report, not a test).

    python benchmarks/predict_memory.py [--size 1000] [--workdir DIR] [--package-root DIR] [--json FILE]

Issue 20 measured 20.9 GB for ``predict --random-inputs`` on a real 1000 × 1000, 110-layer super-resolution
model: every intermediate blob stayed alive until the end. Target: peak ≤ 4 × the largest set of blobs that
must be alive at once, plus the weights.

The network (built here with coremltools' NeuralNetworkBuilder, deterministic random weights) follows CARN
(Ahn et al., 2018) without its upsampler: an entry 3 × 3 convolution 3 → 64, four cascading blocks of four
residual blocks (conv 3 × 3, ReLU, conv 3 × 3, add, ReLU), each residual block's output concatenated with
everything before it in its cascade and fused back to 64 channels by a 1 × 1 convolution, the same cascade
over the blocks, and an exit convolution 64 → 3: 122 layers, 64 channels, concatenations up to 320 channels.

What is reported, from the spec alone (independently of the engine): the bytes of the largest set of blobs
alive at once — for each layer, every blob produced earlier and still read at or after it, plus its outputs —
and the bytes of the weights. Measured: ``ru_maxrss`` of a fresh ``python -m mlsurgery predict MODEL
--random-inputs`` process (read with ``os.wait4``), and of a fresh interpreter that only imports torch and
the engine (the floor every predict process pays), so the figure compared to the bound is peak − floor.
``--package-root`` runs another checkout of mlsurgery (e.g. the code before this change) on the same model.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = 64
CASCADES = 4
RESIDUALS = 4
FLOAT_BYTES = 4


class CarnBuilder:
    """Builds the spec and records each blob's channel count (every blob is size × size)."""

    def __init__(self, size: int):
        import coremltools.models.datatypes as datatypes
        from coremltools.models.neural_network import NeuralNetworkBuilder

        self.size = size
        self.builder = NeuralNetworkBuilder([("image", datatypes.Array(3, size, size))],
                                            [("output", datatypes.Array(3, size, size))])
        self.rng = np.random.default_rng(0)
        self.channels = {"image": 3}
        self.weight_count = 0
        self.counter = 0

    def name(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}{self.counter}"

    def conv(self, source: str, out_channels: int, kernel: int, target: str | None = None) -> str:
        target = target or self.name("conv")
        in_channels = self.channels[source]
        weights = (self.rng.standard_normal((kernel, kernel, in_channels, out_channels)) *
                   np.sqrt(1.0 / (kernel * kernel * in_channels))).astype(np.float32)
        self.builder.add_convolution(target, kernel_channels=in_channels, output_channels=out_channels,
                                     height=kernel, width=kernel, stride_height=1, stride_width=1,
                                     border_mode="same", groups=1, W=weights, b=np.zeros(out_channels, np.float32),
                                     has_bias=True, input_name=source, output_name=target)
        self.weight_count += weights.size + out_channels
        self.channels[target] = out_channels
        return target

    def relu(self, source: str) -> str:
        target = self.name("relu")
        self.builder.add_activation(target, "RELU", source, target)
        self.channels[target] = self.channels[source]
        return target

    def add(self, first: str, second: str) -> str:
        target = self.name("add")
        self.builder.add_elementwise(target, [first, second], target, "ADD")
        self.channels[target] = self.channels[first]
        return target

    def concat(self, sources: list[str]) -> str:
        target = self.name("concat")
        self.builder.add_elementwise(target, sources, target, "CONCAT")
        self.channels[target] = sum(self.channels[s] for s in sources)
        return target

    def residual(self, source: str) -> str:
        inner = self.conv(self.relu(self.conv(source, CHANNELS, 3)), CHANNELS, 3)
        return self.relu(self.add(source, inner))

    def cascade(self, source: str, unit) -> str:
        """CARN's cascading: after each unit, concatenate its output with everything before and fuse by 1 × 1."""
        gathered, current = source, source
        for _ in range(RESIDUALS if unit == self.residual else CASCADES):
            produced = unit(current)
            gathered = self.concat([gathered, produced])
            current = self.conv(gathered, CHANNELS, 1)
        return current

    def build(self):
        entry = self.conv("image", CHANNELS, 3)
        body = self.cascade(entry, lambda source: self.cascade(source, self.residual))
        self.conv(body, 3, 3, target="output")
        return self.builder.spec


def largest_live_bytes(spec, channels: dict[str, int], size: int) -> tuple[int, str]:
    """The most bytes of blobs that must exist at once (while some layer runs), and that layer's name."""
    layers = spec.neuralNetwork.layers
    last_read = {}
    for position, layer in enumerate(layers):
        for name in layer.input:
            last_read[name] = position
    outputs = {feature.name for feature in spec.description.output}
    blob_bytes = {name: count * size * size * FLOAT_BYTES for name, count in channels.items()}
    best, where = 0, ""
    alive = {"image"}
    for position, layer in enumerate(layers):
        during = alive | set(layer.output)
        total = sum(blob_bytes[name] for name in during)
        if total > best:
            best, where = total, layer.name
        alive = {name for name in during if last_read.get(name, -1) > position or name in outputs}
    return best, where


def run(arguments: list[str], package_root: Path) -> tuple[int, float, str]:
    """(peak resident bytes, seconds, stdout) of a fresh process run in ``package_root``."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([sys.executable, *arguments], cwd=package_root, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(arguments)} failed:\n{stderr}")
    return usage.ru_maxrss * 1024, seconds, stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="input height and width (CARN-sized: 1000)")
    parser.add_argument("--workdir", type=Path, help="where to write the model (default: a temporary folder)")
    parser.add_argument("--package-root", type=Path, default=ROOT, help="the mlsurgery checkout to run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args()

    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="predict-memory-"))
    workdir.mkdir(parents=True, exist_ok=True)
    carn = CarnBuilder(options.size)
    spec = carn.build()
    model = workdir / f"carn_{options.size}.mlmodel"
    model.write_bytes(spec.SerializeToString())
    live, where = largest_live_bytes(spec, carn.channels, options.size)
    weights = carn.weight_count * FLOAT_BYTES
    every_blob = sum(carn.channels.values()) * options.size ** 2 * FLOAT_BYTES

    floor, _, _ = run(["-c", "import torch, mlsurgery.engine.models"], options.package_root)
    peak, seconds, _ = run(["-m", "mlsurgery", "predict", str(model), "--random-inputs"], options.package_root)
    bound = 4 * live + weights
    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "package_root": "." if options.package_root.resolve() == ROOT else str(options.package_root), "size": options.size, "layers": len(spec.neuralNetwork.layers),
        "largest_live_bytes": live, "largest_live_at": where, "weight_bytes": weights,
        "every_blob_bytes": every_blob, "floor_bytes": floor, "peak_bytes": peak,
        "peak_above_floor_bytes": peak - floor, "bound_bytes": bound, "within_bound": peak - floor <= bound,
        "seconds": round(seconds, 1),
    }
    gib = 2 ** 30
    print(f"{figures['layers']} layers, {options.size} × {options.size} × 3 input ({options.package_root})")
    print(f"  every blob of the network    {every_blob / gib:7.2f} GiB")
    print(f"  largest live set (at {where:>9}) {live / gib:5.2f} GiB; weights {weights / 2 ** 20:.1f} MiB")
    print(f"  bound 4 × live + weights     {bound / gib:7.2f} GiB")
    print(f"  predict peak                 {peak / gib:7.2f} GiB (interpreter + torch floor {floor / gib:.2f} GiB)")
    print(f"  peak above the floor         {(peak - floor) / gib:7.2f} GiB  "
          f"{'within' if figures['within_bound'] else 'OVER'} the bound; {seconds:.0f} s")
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
