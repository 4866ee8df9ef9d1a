"""Cold start of `mlsurgery inspect` on a small model, against `python -c "import coremltools"`.

    python benchmarks/cold_start.py [--repeat 7] [--json FILE]

Target (issue 2): inspect takes at most 30 % of the import. Both commands run alternately in fresh processes,
side by side in one run, and each keeps its median wall time, so machine load affects both alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.30
MODEL = ROOT / "fixtures" / "mnist_mlp.mlmodel"
COMMANDS = {
    "mlsurgery inspect": [sys.executable, "-m", "mlsurgery", "inspect", str(MODEL), "--format", "json"],
    "import coremltools": [sys.executable, "-c", "import coremltools"],
}


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    for command in COMMANDS.values():  # warm the file cache and .pyc files: we measure start-up, not the disk
        _seconds(command)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, command in COMMANDS.items():
            times[name].append(_seconds(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["mlsurgery inspect"] / medians["import coremltools"]
    for name, median in medians.items():
        print(f"{name:20s} {median * 1000:7.0f} ms (median of {args.repeat})")
    print(f"ratio {ratio:.2f} (target ≤ {TARGET:.2f}): {'met' if ratio <= TARGET else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"medians_s": medians, "ratio": ratio, "target": TARGET}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
