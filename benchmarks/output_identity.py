"""Prove that surgery writes the same bytes as an earlier version of mlsurgery, for the same seeds.

    python benchmarks/output_identity.py record HASHES.json [--models DIR ...]
    python benchmarks/output_identity.py check HASHES.json [--models DIR ...]

``record`` runs reinit, widen, make-updatable, to-fp32 and dequantize (each through ``mlsurgery.jobs.run_job``:
load → operation → validate → save, ``force`` so an invalid result is written too) on every fixture model and on
any extra ``.mlmodel`` found in ``--models`` folders (e.g. the VGG16-sized specs of ``vgg16_spec.py``), and stores
the sha256 of every output, or the error an operation raised. ``check`` runs the same and compares: run
``record`` with the old code and ``check`` with the new. The operations are chosen from each model (its dense
and convolution layers, its classifier), not from a list of fixtures, so any model can be added.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlsurgery import jobs as mlsurgery_jobs  # noqa: E402
from mlsurgery.errors import MLSurgeryError  # noqa: E402
from mlsurgery.network import LayerGraph  # noqa: E402
from mlsurgery.io import load_spec  # noqa: E402
from mlsurgery.ops.precision import convert_fp16_to_fp32, dequantize_layers  # noqa: E402
from mlsurgery.ops.reinit import reinit_layers  # noqa: E402
from mlsurgery.ops.widen import widen_classifier  # noqa: E402

WEIGHTED = ("innerProduct", "convolution")


def _weighted_layers(model: Path) -> list[str]:
    try:
        graph = LayerGraph.trainable(load_spec(model))
    except MLSurgeryError:
        return []
    return [layer.name for layer in graph.layers if layer.kind in WEIGHTED]


def jobs(model: Path) -> dict[str, object]:
    """Name → operation (``spec -> Changes``) for the surgery that applies to ``model``."""
    layers = _weighted_layers(model)
    found: dict[str, object] = {}
    if layers:
        found["reinit last"] = lambda spec: reinit_layers(spec, layers[-1:], rng=np.random.default_rng(7))
        found["reinit all"] = lambda spec: reinit_layers(spec, layers, rng=np.random.default_rng(8))
        found["widen last +3 kaiming"] = lambda spec: widen_classifier(
            spec, layers[-1], _outputs(spec, layers[-1]) + 3, init="kaiming", rng=np.random.default_rng(9))
        found["widen last +2 zeros"] = lambda spec: widen_classifier(spec, layers[-1], _outputs(spec, layers[-1]) + 2)
        found["dequantize all"] = lambda spec: dequantize_layers(spec, layers)
    found["to-fp32"] = convert_fp16_to_fp32
    found["make-updatable auto"] = lambda spec: mlsurgery_jobs.make_updatable(spec, ["auto"], to_fp32=True, seed=3)
    if layers:
        found["make-updatable last, dequantize"] = lambda spec: mlsurgery_jobs.make_updatable(
            spec, layers[-1:], to_fp32=True, dequantize=True, seed=4)
    return found


def _outputs(spec, name: str) -> int:
    params = LayerGraph.trainable(spec).layer(name).params
    return params.outputChannels


def run(models: list[Path]) -> dict[str, str]:
    results: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="mlsurgery-identity-") as folder:
        out = Path(folder) / "out.mlmodel"
        for model in models:
            for name, operation in jobs(model).items():
                key = f"{model.name} :: {name}"
                load = mlsurgery_jobs.load_network_spec if not name.startswith("make-updatable") else (
                    lambda path: mlsurgery_jobs.load_network_spec(path, allow_glm_head=True))
                try:
                    mlsurgery_jobs.run_job(model, operation, out, force=True, load=load)
                    results[key] = hashlib.sha256(out.read_bytes()).hexdigest()
                except MLSurgeryError as error:
                    results[key] = f"error: {type(error).__name__}: {error}"
                out.unlink(missing_ok=True)
                print(f"{key}: {results[key][:80]}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["record", "check"])
    parser.add_argument("hashes", type=Path)
    parser.add_argument("--models", type=Path, nargs="*", default=[], help="folders of extra .mlmodel files")
    parser.add_argument("--stored-field-bytes", type=int, help="leave weight fields from this size in the file "
                        "(mlsurgery.weights.STORED_FIELD_BYTES; 1 exercises stored weights on the small fixtures)")
    parser.add_argument("--only", help="run just the models whose file name contains this")
    args = parser.parse_args()
    if args.stored_field_bytes is not None:
        import mlsurgery.weights

        mlsurgery.weights.STORED_FIELD_BYTES = args.stored_field_bytes
    models = sorted((ROOT / "fixtures").glob("*.mlmodel")) + sorted((ROOT / "fixtures/third_party").glob("*.mlmodel"))
    for folder in args.models:
        models += sorted(folder.glob("*.mlmodel"))
    results = run([model for model in models if args.only is None or args.only in model.name])
    if args.mode == "record":
        args.hashes.write_text(json.dumps(results, indent=1) + "\n")
        print(f"recorded {len(results)} outputs in {args.hashes}")
        return
    expected = json.loads(args.hashes.read_text())
    expected = {key: value for key, value in expected.items() if key in results}
    differing = [key for key in expected if results.get(key) != expected[key]]
    missing = [key for key in results if key not in expected]
    for key in differing:
        print(f"DIFFERS {key}: was {expected[key][:70]}, now {str(results.get(key))[:70]}")
    print(f"{len(expected) - len(differing)} of {len(expected)} outputs identical"
          + (f"; {len(missing)} not recorded before" if missing else ""))
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
