"""Reach of the headline command on ML Programs: `make-updatable X.mlpackage --layers auto --fix -o Y.mlmodel`.

    python benchmarks/mlpackage_reach.py [--json FILE]

Converts each PyTorch model of tests/mlprogram/zoo.py to an .mlpackage with coremltools 9 (fp32 and fp16, iOS 15
to 18, classifiers and regressors, image, tensor and token inputs), runs the command on it exactly as a user
would (the CLI, in this process), and prints per package whether a model Core ML's validator accepts was written,
or the one line that refused it. Issue 18's acceptance asks for at least 9 of 11.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "mlprogram")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    import numpy as np
    import torch
    from mlpackages import save_package
    from zoo import CASES

    from mlsurgery.cli import main as mlsurgery
    from mlsurgery.io import load_spec
    from mlsurgery.validate import validate_spec

    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name, case in sorted(CASES.items()):
            torch.manual_seed(0)
            module = case.factory().eval()
            examples = [torch.from_numpy(a) for a in case.torch_inputs(case.examples(np.random.default_rng(0)))]
            package = save_package(module, examples, case.coreml_inputs(), Path(folder) / f"{name}.mlpackage",
                                   fp16=case.fp16, target=case.target, classifier_labels=case.labels)
            output = Path(folder) / f"{name}.mlmodel"
            err = io.StringIO()
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                code = mlsurgery(["make-updatable", str(package), "--layers", "auto", "--fix", "-o", str(output)])
            seconds = time.perf_counter() - start
            accepted = code == 0 and output.exists() and validate_spec(load_spec(output)).valid
            line = err.getvalue().strip().splitlines()[-1] if code else ""
            results.append({"package": name, "exit_code": code, "accepted": accepted, "seconds": round(seconds, 2),
                            "refusal": line})
            print(f"{name:45s} {'accepted' if accepted else f'exit {code}: {line}'}  ({seconds:.1f} s)")
    accepted = sum(result["accepted"] for result in results)
    print(f"{accepted} of {len(results)} packages became models Core ML's validator accepts")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "accepted": accepted, "total": len(results)}, indent=2)
                             + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
