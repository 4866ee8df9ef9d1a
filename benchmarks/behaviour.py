"""Record what every command does on every model, so a refactoring can show it changed nothing.

Runs each ``mlsurgery`` command (inspect, validate in every format, rules, contract, make-updatable, widen,
reinit, split, make-knn, fix, graph, predict, train, apply of every recipe) as a subprocess on the fixtures, the
zoo and the third-party models, and writes one file per run into OUT: the exit code, stdout, stderr and the
SHA-256 of every file the run wrote. Recording twice (before and after a change) and comparing the two folders
with ``--compare`` shows the change is byte-identical, or lists each run that differs.

It lives in benchmarks/ rather than tests/ because, like the benchmarks, it runs the real CLI over half the
repository and takes minutes (hundreds of processes); it is a tool for a refactoring's author, not a unit test.

    python benchmarks/behaviour.py /tmp/before              # record
    python benchmarks/behaviour.py /tmp/after
    python benchmarks/behaviour.py --compare /tmp/before /tmp/after

Record from a tree at a fixed path (``git archive COMMIT | tar -x -C /tmp/tree``, then
``python /tmp/tree/benchmarks/behaviour.py OUT``) so that both recordings see the same paths and the work tree
can change while one runs; MLSURGERY_SHARED_MODELS names the third-party models folder when it is not
``../../shared/models`` from the repository.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_MODELS = ROOT.parent.parent / "shared" / "models"
# Written files land here, at the same paths in every recording, so paths printed in outputs compare equal.
SCRATCH = Path("/tmp/mlsurgery-behaviour-scratch")


def _models() -> list[Path]:
    found = sorted((ROOT / "fixtures").glob("*.mlmodel")) + sorted((ROOT / "fixtures" / "zoo").glob("*.mlmodel"))
    found += sorted((ROOT / "fixtures" / "third_party").glob("*.mlmodel"))
    shared = Path(os.environ.get("MLSURGERY_SHARED_MODELS", SHARED_MODELS))
    third_party = {path.name for path in found}
    found += [path for path in sorted(shared.glob("*.mlmodel")) if path.name not in third_party]
    return [path.relative_to(ROOT) if path.is_relative_to(ROOT) else path for path in found]


def _inspect(model: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "mlsurgery", "inspect", "--format", "json", str(model)],
                          cwd=ROOT, capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else {}


def _last_layer_of(summary: dict, kinds: tuple[str, ...]) -> dict | None:
    layers = [layer for network in summary.get("networks", []) for layer in network["layers"]
              if layer["type"] in kinds and not network["where"].count("/")]
    return layers[-1] if layers else None


def _runs_for(model: Path) -> list[tuple[str, list[str]]]:
    """(run name, argv after 'mlsurgery') for every command on one model."""
    out = "{OUT}"
    runs = [("inspect-table", ["inspect", str(model)]),
            ("inspect-json", ["inspect", "--format", "json", str(model)]),
            ("contract-table", ["contract", str(model)]),
            ("contract-json", ["contract", "--format", "json", str(model)]),
            ("contract-swift", ["contract", "--swift", str(model)]),
            ("make-updatable-dry", ["make-updatable", "--dry-run", str(model)]),
            ("make-updatable", ["make-updatable", str(model), "-o", f"{out}/updatable.mlmodel"]),
            ("make-updatable-adam-mse", ["make-updatable", "--optimizer", "adam", "--loss", "mse", "--dry-run",
                                         str(model)]),
            ("make-updatable-fix", ["make-updatable", "--fix", str(model), "-o", f"{out}/updatable_fix.mlmodel"]),
            ("fix-dry", ["fix", "--dry-run", str(model)]),
            ("fix-json", ["fix", "--dry-run", "--format", "json", str(model)]),
            ("fix", ["fix", str(model), "-o", f"{out}/fixed.mlmodel"]),
            ("make-knn-dry", ["make-knn", "--dry-run", str(model)]),
            ("make-knn", ["make-knn", str(model), "-o", f"{out}/knn.mlmodel"]),
            ("graph-html", ["graph", str(model), "-o", f"{out}/graph.html"]),
            ("graph-svg", ["graph", str(model), "-o", f"{out}/graph.svg"]),
            ("predict", ["predict", "--random-inputs", "--format", "json", str(model)])]
    for fmt in ("text", "json", "sarif", "github"):
        runs.append((f"validate-{fmt}", ["validate", "--format", fmt, str(model)]))
    runs.append(("validate-strict", ["validate", "--strict", str(model)]))
    summary = _inspect(model)
    weighted = _last_layer_of(summary, ("innerProduct", "convolution"))
    if weighted:
        name = weighted["name"]
        runs += [("widen-preserve", ["widen", str(model), "--layer", name, "--classes", "40", "--init", "preserve",
                                     "-o", f"{out}/widened.mlmodel"]),
                 ("widen-kaiming", ["widen", str(model), "--layer", name, "--classes", "40", "--init", "kaiming",
                                    "--seed", "1", "--dry-run"]),
                 ("reinit", ["reinit", str(model), "--layers", name, "--seed", "1",
                             "-o", f"{out}/reinit.mlmodel"]),
                 ("reinit-xavier", ["reinit", str(model), "--layers", name, "--init", "xavier-uniform",
                                    "--seed", "2", "--dry-run"]),
                 ("split", ["split", str(model), "--at", weighted["inputs"][0], "-o", f"{out}/split.mlmodel"]),
                 ("split-mse", ["split", str(model), "--at", weighted["inputs"][0], "--loss", "mse",
                                "--dry-run"]),
                 ("make-knn-at", ["make-knn", str(model), "--features", weighted["inputs"][0], "--dry-run"])]
    return runs


def _global_runs() -> list[tuple[str, list[str]]]:
    out = "{OUT}"
    runs = [("rules-table", ["rules"]), ("rules-json", ["rules", "--format", "json"]),
            ("recipe-schema", ["recipe", "schema"]),
            ("validate-many", ["validate", "--format", "json", *map(str, _models())]),
            ("validate-missing", ["validate", "no/such/model.mlmodel"])]
    for code in ("MLS001", "MLS100", "MLS500"):
        runs.append((f"rules-explain-{code}", ["rules", "explain", code]))
    for recipe in sorted((ROOT / "recipes").glob("*.yaml")):
        name = recipe.stem
        runs.append((f"apply-dry-{name}", ["apply", "--dry-run", str(recipe.relative_to(ROOT))]))
        runs.append((f"apply-{name}", ["apply", "--output-dir", f"{out}", str(recipe.relative_to(ROOT))]))
    # One training run on a small, seeded data set (the engine, update parameters and write-back).
    runs.append(("train-regressor", ["train", "fixtures/third_party/updatable_mse_regressor.mlmodel",
                                     f"{SCRATCH}/train.npz",
                                     "--format", "json", "-o", f"{out}/trained.mlmodel"]))
    return runs


def _run(name: str, argv: list[str], destination: Path) -> None:
    # Each run writes into its own folder ({OUT} in its arguments), at the same path in every recording.
    out = SCRATCH / name
    out.mkdir()
    argv = [arg.replace("{OUT}", str(out)) for arg in argv]
    env = {**os.environ, "COLUMNS": "120", "TERM": "dumb", "NO_COLOR": "1", "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, "-m", "mlsurgery", *argv], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=900)
    written = {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(out.rglob("*"))
               if path.is_file()}
    record = {"argv": argv, "exit": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
              "written": written}
    destination.write_text(json.dumps(record, indent=1, sort_keys=True))


def record(folder: Path, jobs: int) -> None:
    import numpy as np

    if SCRATCH.exists():
        shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.savez(SCRATCH / "train.npz", input=rng.standard_normal((24, 13)).astype(np.float32),
             output_true=rng.standard_normal((24, 1)).astype(np.float32))
    folder.mkdir(parents=True, exist_ok=True)
    work = [(f"global--{name}", argv) for name, argv in _global_runs()]
    for model in _models():
        for name, argv in _runs_for(model):
            work.append((f"{model.parent.name}--{model.stem}--{name}", argv))
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for future in [pool.submit(_run, name, argv, folder / f"{name}.json") for name, argv in work]:
            future.result()
    print(f"{len(work)} runs recorded in {folder}")


def compare(before: Path, after: Path) -> int:
    names = sorted({path.name for path in before.glob("*.json")} | {path.name for path in after.glob("*.json")})
    differing = [name for name in names
                 if not (before / name).exists() or not (after / name).exists()
                 or (before / name).read_bytes() != (after / name).read_bytes()]
    for name in differing:
        print(f"differs: {name}")
    print(f"{len(names) - len(differing)} of {len(names)} runs byte-identical")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--compare", action="store_true", help="compare two recordings instead of recording")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if args.compare:
        return compare(*args.folders)
    record(args.folders[0], args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
