"""Reach: how many real networks ``make-updatable MODEL --layers auto --fix`` turns into a model Core ML accepts.

    python benchmarks/reach.py [--built] [--json PATH] [MODEL ...]

Runs the command (in process, through ``mlsurgery.api.make_updatable_file``, writing to a temporary folder) over
every NeuralNetwork model (or pipeline ending in one) in fixtures/ (third_party and zoo included) and
../shared/models, plus, with ``--built``, the converter-shaped networks of ``benchmarks/reach_models.py``.
Prints one row per model (written and accepted, or the one line the user gets) and a table by cause.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlsurgery.api import make_updatable_file  # noqa: E402
from mlsurgery.errors import MLSurgeryError  # noqa: E402
from mlsurgery.io import load_spec  # noqa: E402

# What stops a model, read off the one line the user gets; the first pattern that matches names the cause.
CAUSES = [
    ("several outputs (the user's choice)", r"outputs?.*choose|several outputs|which output"),
    ("fp16 weights", r"fp16"),
    ("quantized weights", r"quantized"),
    ("per-pixel softmax", r"softmax"),
    ("scale/bias tail", r"\((scale|bias)\)"),
    ("upsample", r"upsample"),
    ("reduce", r"\(reduce"),
    ("identity/copy", r"\((copy|activation/linear)\)"),
    ("no trainable layer", r"no layer .*can be trained|no trainable|no layer upstream"),
]


def network_models(folders: list[Path]) -> list[Path]:
    """The network models under ``folders``, each file content once (fixtures/third_party copies shared/models)."""
    found, seen = [], set()
    for folder in folders:
        for path in sorted(folder.rglob("*.mlmodel")):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            try:
                kind = load_spec(path).WhichOneof("Type")
            except MLSurgeryError:
                continue
            if kind.startswith("neuralNetwork") or kind.startswith("pipeline"):
                found.append(path)
    return found


def cause_of(message: str) -> str:
    for cause, pattern in CAUSES:
        if re.search(pattern, message, re.IGNORECASE):
            return cause
    return "other"


def run(paths: list[Path], workdir: Path) -> list[dict]:
    rows = []
    for index, path in enumerate(paths):
        output = workdir / f"{index}_{path.stem}_updatable.mlmodel"
        try:
            result = make_updatable_file(str(path), str(output), ["auto"], fix=True)
            chosen = [c.target for c in result.changes if c.detail == "marked updatable"]
            rows.append({"model": str(path), "accepted": True, "cause": "", "line": ", ".join(chosen)})
        except MLSurgeryError as refused:
            line = str(refused).splitlines()[0]
            rows.append({"model": str(path), "accepted": False, "cause": cause_of(line), "line": line})
        except Exception as crash:  # a traceback is itself a finding: the acceptance asks for one line
            rows.append({"model": str(path), "accepted": False, "cause": "crash",
                         "line": f"{type(crash).__name__}: {crash}"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--built", action="store_true", help="also the networks of benchmarks/reach_models.py")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.models:
            paths = args.models
        else:
            shared = [folder / "shared" / "models" for folder in (ROOT.parent, ROOT.parent.parent)]
            paths = network_models([ROOT / "fixtures", *(folder for folder in shared if folder.is_dir())])
        if args.built:
            from reach_models import write_all

            paths = list(paths) + write_all(workdir / "built")
        rows = run(paths, workdir)
    width = max(len(Path(row["model"]).name) for row in rows)
    for row in rows:
        verdict = "accepted" if row["accepted"] else f"REFUSED [{row['cause']}]"
        print(f"{Path(row['model']).name:<{width}}  {verdict:<32} {row['line'][:150]}")
    accepted = sum(row["accepted"] for row in rows)
    print(f"\n{accepted} of {len(rows)} written and accepted by Core ML's validator "
          f"({100 * accepted / len(rows):.0f} %)")
    for cause, count in Counter(row["cause"] for row in rows if not row["accepted"]).most_common():
        print(f"  {count:>3}  {cause}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
