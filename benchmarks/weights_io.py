"""The alternatives mlsurgery.weights chose between, measured on one 16 M-float WeightParams (64 MB).

    python benchmarks/weights_io.py [--values 16000000]

Each alternative runs in a fresh process (so peaks do not mix) and reports seconds and how much its peak
resident memory rose above the process's state just before it (in multiples of the 64 MB array).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

ALTERNATIVES = {
    "read: np.array(floatValue)": "read_python",
    "read: serialize + np.frombuffer (mlsurgery)": "read_frombuffer",
    "write: floatValue.extend(ndarray)": "write_extend_array",
    "write: floatValue.extend(ndarray.tolist())": "write_extend_list",
    "write: ClearField + one packed MergeFromString": "write_one_merge",
    "write: del [:] + chunked packed merges (mlsurgery)": "write_chunked",
    "save: SerializeToString of the layer": "save_serialize",
    "save: write_message in pieces (mlsurgery)": "save_streamed",
}


def _child(name: str, count: int) -> None:
    sys.path.insert(0, str(HERE.parent))
    import numpy as np

    from mlsurgery._proto import nn_pb2
    from mlsurgery.serialize import write_message
    from mlsurgery.weights import fill_float_values, float_values

    values = np.random.default_rng(0).standard_normal(count, dtype=np.float32)
    layer = nn_pb2().NeuralNetworkLayer(name="dense")
    weights = layer.innerProduct.weights
    fill_float_values(weights, count, lambda out, start: np.copyto(out, values[start:start + len(out)]))
    sink = []
    base = _rss()
    _reset_peak()
    started = time.perf_counter()
    if name == "read_python":
        sink.append(np.array(weights.floatValue, dtype=np.float32))
    elif name == "read_frombuffer":
        sink.append(float_values(weights))
    elif name == "write_extend_array":
        weights.ClearField("floatValue")
        weights.floatValue.extend(values)
    elif name == "write_extend_list":
        weights.ClearField("floatValue")
        weights.floatValue.extend(values.tolist())
    elif name == "write_one_merge":
        weights.ClearField("floatValue")
        header = bytes([0x0A]) + _varint(4 * count)
        weights.MergeFromString(header + values.tobytes())
    elif name == "write_chunked":
        fill_float_values(weights, count, lambda out, start: np.copyto(out, values[start:start + len(out)]))
    elif name == "save_serialize":
        sink.append(layer.SerializeToString(deterministic=True))
    elif name == "save_streamed":
        write_message(layer, lambda piece: None, piece_bytes=1 << 24)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_rise": (_peak() - base) / (4 * count)}))


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _status(key: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(key))


def _rss() -> int:
    return _status("VmRSS:")


def _peak() -> int:
    return _status("VmHWM:")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:  # Linux: restart the VmHWM high-water mark here
        refs.write("5")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=16_000_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.values)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"one WeightParams of {args.values:,} floats ({4 * args.values / 1e6:.0f} MB)",
                  title_justify="left")
    for column in ("alternative", "seconds", "peak rise (× array)"):
        table.add_column(column, justify="left" if column == "alternative" else "right")
    for label, name in ALTERNATIVES.items():
        output = subprocess.run([sys.executable, __file__, "--child", name, "--values", str(args.values)],
                                check=True, capture_output=True, text=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        table.add_row(label, f"{result['seconds']:.3f}", f"{result['peak_rise']:.2f}")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
