"""Reach: how many real networks ``make-updatable MODEL --layers auto --fix`` turns into a model Core ML accepts.

    python benchmarks/reach.py [--built] [--json PATH] [MODEL_OR_FOLDER ...]

Runs the command (in process, through ``mlsurgery.jobs.make_updatable_file``, writing to a temporary folder) over
every NeuralNetwork model (or pipeline ending in one) in fixtures/ (third_party and zoo included) and
../shared/models, plus, with ``--built``, the converter-shaped networks of ``benchmarks/reach_models.py``.
Given models or folders, runs over those instead (a held-out set). Prints one row per model (written and
accepted, or the one line the user gets) and, per group (third party, built, repo fixtures), a table by cause;
"several outputs" is the user's choice (Core ML trains one loss), not a failure of the tool.
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

from mlsurgery.jobs import make_updatable_file  # noqa: E402
from mlsurgery.errors import MLSurgeryError  # noqa: E402
from mlsurgery.io import load_spec  # noqa: E402

CHOICE = "several outputs (the user's choice)"
# What stops a model, read off the one line the user gets; the first pattern that matches names the cause.
CAUSES = [
    (CHOICE, r"outputs?.*choose|several outputs|which output"),
    ("bilinear upsample (no exact rewrite)", r"upsamples bilinearly"),
    ("nothing trainable before the output", r"no layer Core ML can train lies between|no layer upstream"),
    ("fp16 weights", r"fp16"),
    ("quantized weights", r"quantized"),
    ("per-pixel softmax", r"softmax"),
    ("scale/bias tail", r"\((scale|bias)\)"),
    ("upsample", r"upsample"),
    ("reduce", r"\(reduce"),
    ("identity/copy", r"\((copy|activation/linear)\)"),
    ("no trainable layer", r"no layer .*can be trained|no trainable"),
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


def group_of(path: Path) -> str:
    """Where a model comes from: a third party (shared/models, fixtures/third_party, or a path given), this
    repository's own fixtures (synthetic), or reach_models.py (converter-shaped, built here)."""
    parts = set(path.parts)
    if "built" in parts:
        return "built"
    if "fixtures" in parts and "third_party" not in parts:
        return "repo fixtures"
    return "third party"


def run(paths: list[Path], workdir: Path) -> list[dict]:
    rows = []
    for index, path in enumerate(paths):
        output = workdir / f"{index}_{path.stem}_updatable.mlmodel"
        try:
            result = make_updatable_file(str(path), str(output), ["auto"], fix=True)
            chosen = [c.target for c in result.changes if c.detail == "marked updatable"]
            row = {"accepted": True, "cause": "", "line": ", ".join(chosen)}
        except MLSurgeryError as refused:
            line = str(refused).splitlines()[0]
            row = {"accepted": False, "cause": cause_of(line), "line": line}
        except Exception as crash:  # a traceback is itself a finding: the acceptance asks for one line
            row = {"accepted": False, "cause": "crash", "line": f"{type(crash).__name__}: {crash}"}
        rows.append({"model": str(path), "group": group_of(path), **row})
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
            paths = network_models([m for m in args.models if m.is_dir()]) + [m for m in args.models if m.is_file()]
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
    print()
    for group in ("third party", "built", "repo fixtures", None):
        chosen = [row for row in rows if group is None or row["group"] == group]
        if not chosen:
            continue
        accepted = sum(row["accepted"] for row in chosen)
        choices = sum(row["cause"] == CHOICE for row in chosen)
        print(f"{group or 'all'}: {accepted} of {len(chosen)} written and accepted by Core ML's validator "
              f"({100 * accepted / len(chosen):.0f} %); {choices} more ask the user which output to train")
        for cause, count in Counter(row["cause"] for row in chosen if not row["accepted"]).most_common():
            print(f"  {count:>3}  {cause}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
