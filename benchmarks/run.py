"""Benchmark mlsurgery on a VGG16-sized model and a 10,000-layer network against the floors, side by side.

    python benchmarks/run.py [--repeat 3] [--json benchmarks/results.json] [--workdir DIR] [--skip-article]

Builds the models once into ``--workdir`` (reused when already there): ``vgg16_spec.py`` fp32 (553 MB), fp16 and
8-bit, and ``deep_network.py`` (10,000 layers). Then runs every case in a fresh process, all cases once per round,
and reports for each the fastest round's seconds and the highest peak resident memory (``ru_maxrss`` of exactly
that process, read with ``os.wait4``), next to the floors measured in the same run:

- ``cp`` of the model file (coreutils; and ``cp`` followed by an fsync of the copy, as ``save_spec`` syncs);
- NumPy's generator drawing fc6's 102.8 M uniform float32 values (what ``reinit --layers fc6`` computes);
- a bare protobuf parse + serialize + write (fsync) of the same file;
- the article's coremltools idiom for the same re-init (``baseline_article_reinit.py``).

Acceptance (issue 21): ``reinit --layers fc6`` ≤ 1.3 × (cp + NumPy draw) and ≥ 8× faster than the article's
idiom; peak memory of reinit, widen, make-updatable and validate ≤ 1.2 × the larger of input and output file;
validate of 10,000 layers ≤ 5 × Core ML's C++ validator (``--cpp-validator``: a build of it timed in the same run,
best of its rounds, against mlsurgery's best round in one process; without it, the 0.09–0.10 s the issue measured,
so ≤ 0.5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

FLOOR_TARGET, ARTICLE_TARGET, MEMORY_TARGET = 1.3, 8.0, 1.2
CPP_VALIDATOR_SECONDS = 0.10  # issue 21's measurement of Core ML's validator on 10,000 layers (upper end)
VALIDATE_TARGET = 5 * CPP_VALIDATOR_SECONDS


@dataclass
class Case:
    name: str
    command: list[str]  # {model} and {out} are filled in; "cases.py X" runs benchmarks/cases.py case X
    model: str  # fp32, fp16, int8 or deep
    what: str
    memory_target: bool = False  # held to peak ≤ 1.2 × file

    @property
    def timed_inside(self) -> bool:
        return self.command[0].endswith(".py")


CASES = [
    Case("cp", ["cp", "{model}", "{out}"], "fp32", "coreutils cp of the model file"),
    Case("cp + fsync", ["sh", "-c", 'cp "$0" "$1" && sync "$1"', "{model}", "{out}"], "fp32",
         "cp, then fsync of the copy (save_spec fsyncs)"),
    Case("NumPy draw", ["cases.py", "numpy_draw"], "fp32", "NumPy: 102.8 M uniform float32 values (fc6)"),
    Case("bare", ["cases.py", "bare"], "fp32", "protobuf parse + serialize + write (fsync)"),
    Case("reinit fc6", ["cases.py", "reinit"], "fp32", "reinit --layers fc6 (Kaiming uniform)", True),
    Case("reinit fc6-fc8", ["cases.py", "reinit_dense"], "fp32", "reinit --layers fc6 fc7 fc8", True),
    Case("widen fc8", ["cases.py", "widen"], "fp32", "widen fc8 1000 → 1010 (kaiming rows)", True),
    Case("make-updatable fc8", ["cases.py", "make_updatable_fc8"], "fp32", "make-updatable --layers fc8", True),
    Case("validate VGG16", ["cases.py", "validate"], "fp32", "validate the 553 MB model", True),
    Case("make_nn.py job", ["cases.py", "job"], "fp32", "widen fc8, reinit fc8, make-updatable, validate, save",
         True),
    Case("split at relu7", ["cases.py", "split"], "fp32", "split --at relu7 --layers fc8 (two-stage pipeline)"),
    Case("make-knn relu7", ["cases.py", "make_knn"], "fp32", "make-knn --features relu7 (k-NN pipeline)"),
    Case("inspect", ["cases.py", "inspect"], "fp32", "inspect --format json"),
    Case("to-fp32", ["cases.py", "to_fp32"], "fp16", "every fp16 weight → fp32"),
    Case("dequantize", ["cases.py", "dequantize"], "int8", "all 16 layers 8-bit linear → fp32"),
    Case("article reinit fc6", ["baseline_article_reinit.py"], "fp32",
         "coremltools idiom of hollance/coreml-training make_nn.py, re-init of fc6"),
    Case("bare deep", ["cases.py", "bare"], "deep", "protobuf parse + serialize of the 10,000-layer network"),
    Case("validate 10,000 layers", ["cases.py", "validate"], "deep",
         "validate the 10,000-layer network, first in a fresh process (imports of the checks included)", True),
    Case("validate 10,000 layers, in one process", ["cases.py", "validate_rounds"], "deep",
         "the same, best of 5 rounds in one process: as the C++ oracle is timed, and as a CI run over a folder "
         "meets every model after its first", True),
]


def cpp_validator_case(binary: Path) -> Case:
    """Core ML's own validator as an oracle: ``binary MODEL`` must load and validate MODEL with apple/coremltools'
    C++ sources (mlmodel/src: ``loadSpecification`` + ``Model::validate``) and print one JSON line with the best
    ``seconds`` of a few rounds. ``oracle/build.sh`` builds one from a checkout of apple/coremltools."""
    return Case("Core ML C++ validator", [str(binary), "{model}"], "deep",
                "Core ML's C++ validator (mlmodel/src), load + validate")


def run_case(case: Case, model: Path, out: Path) -> dict:
    """Run one case in a fresh process: its own clock (or the process's wall time), and its peak RSS."""
    if case.timed_inside:
        command = [sys.executable, str(HERE / case.command[0]), *case.command[1:], str(model), str(out)]
    else:
        command = [part.format(model=model, out=out) for part in case.command]
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage (with the children it waited for)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{case.name} failed:\n{stderr}")
    result = json.loads(stdout.strip().splitlines()[-1]) if case.timed_inside or case.name.startswith(
        "Core ML") else {"seconds": wall}
    return {"seconds": result["seconds"], "cpu_seconds": result.get("cpu_seconds"), "process_seconds": wall,
            "peak_bytes": usage.ru_maxrss * 1024, "output_bytes": out.stat().st_size if out.exists() else 0}


def build_models(workdir: Path) -> dict[str, Path]:
    models = {precision: workdir / f"vgg16_{precision}.mlmodel" for precision in ("fp32", "fp16", "int8")}
    models["deep"] = workdir / "deep10k.mlmodel"
    for name, path in models.items():
        if path.exists():
            continue
        # Built in a child process: a child's peak RSS starts from its parent's, so this process stays small.
        script = ["deep_network.py"] if name == "deep" else ["vgg16_spec.py"]
        options = [] if name == "deep" else ["--precision", name]
        subprocess.run([sys.executable, str(HERE / script[0]), str(path), *options], check=True,
                       stdout=subprocess.DEVNULL)
    return models


def measure(workdir: Path, repeat: int, skip_article: bool, cpp_validator: Path | None = None) -> dict:
    models = build_models(workdir)
    cases = [case for case in CASES if not (skip_article and case.name.startswith("article"))]
    if cpp_validator is not None:
        cases.append(cpp_validator_case(cpp_validator))
    runs: dict[str, list[dict]] = {case.name: [] for case in cases}
    for round_number in range(repeat):  # whole rounds, so a slow spell of a shared machine hits every case alike
        # Each round starts one case later: a case that frees or dirties gigabytes (bare, the article's idiom)
        # changes how fast the kernel hands out pages to the next one, so no case always follows the same one.
        shift = round_number * max(1, len(cases) // repeat)
        for case in cases[shift:] + cases[:shift]:
            runs[case.name].append(run_case(case, models[case.model], workdir / "out.mlmodel"))
    (workdir / "out.mlmodel").unlink(missing_ok=True)
    results = {}
    for case in cases:
        fastest = min(runs[case.name], key=lambda run: run["seconds"])
        input_bytes = models[case.model].stat().st_size
        results[case.name] = {**asdict(case), **fastest, "input_bytes": input_bytes,
                              "peak_bytes": max(run["peak_bytes"] for run in runs[case.name]),
                              "all_seconds": [run["seconds"] for run in runs[case.name]]}
        results[case.name]["peak_per_file"] = results[case.name]["peak_bytes"] / max(
            input_bytes, results[case.name]["output_bytes"])
    floor = results["cp"]["seconds"] + results["NumPy draw"]["seconds"]
    synced_floor = results["cp + fsync"]["seconds"] + results["NumPy draw"]["seconds"]
    summary = {"cases": results, "machine": _machine(), "floor_cp_numpy": floor, "floor_cp_fsync_numpy": synced_floor,
               "reinit_vs_floor": results["reinit fc6"]["seconds"] / floor,
               "reinit_vs_synced_floor": results["reinit fc6"]["seconds"] / synced_floor,
               "validate_deep_seconds": results["validate 10,000 layers"]["seconds"],
               "validate_deep_cpu_seconds": results["validate 10,000 layers"]["cpu_seconds"],
               "validate_deep_warm_seconds": results["validate 10,000 layers, in one process"]["seconds"]}
    if "Core ML C++ validator" in results:
        summary["cpp_validator_seconds"] = results["Core ML C++ validator"]["seconds"]
    if "article reinit fc6" in results:
        summary["article_speedup"] = results["article reinit fc6"]["seconds"] / results["reinit fc6"]["seconds"]
    return summary


def _machine() -> dict:
    import google.protobuf
    import numpy

    from google.protobuf.internal import api_implementation

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "numpy": numpy.__version__, "protobuf": f"{google.protobuf.__version__} ({api_implementation.Type()})",
            "load_average": os.getloadavg()}


def report(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    floor, bare = summary["floor_cp_numpy"], summary["cases"]["bare"]["seconds"]
    table = Table(title="mlsurgery against the floors, one run (fastest round; highest memory)", title_justify="left")
    for column in ("case", "in → out MB", "seconds", "CPU s", "× (cp + NumPy)", "× bare", "peak MB", "peak / file"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for name, result in summary["cases"].items():
        memory = f"{result['peak_per_file']:.2f}"
        if result["memory_target"]:
            memory = f"[{'green' if result['peak_per_file'] <= MEMORY_TARGET else 'red'}]{memory}[/]"
        cpu = "" if result["cpu_seconds"] is None else f"{result['cpu_seconds']:.2f}"
        vgg = result["model"] != "deep"
        table.add_row(name, f"{result['input_bytes'] / 1e6:.0f} → {result['output_bytes'] / 1e6:.0f}",
                      f"{result['seconds']:.2f}", cpu, f"{result['seconds'] / floor:.2f}" if vgg else "",
                      f"{result['seconds'] / bare:.2f}" if vgg else "", f"{result['peak_bytes'] / 1e6:.0f}", memory)
    console.print(table)
    ratio = summary["reinit_vs_floor"]
    console.print(f"reinit fc6: {ratio:.2f}× (cp + NumPy draw) [{_verdict(ratio <= FLOOR_TARGET)}, target ≤ "
                  f"{FLOOR_TARGET}]; {summary['reinit_vs_synced_floor']:.2f}× (cp + fsync + NumPy draw)")
    if "article_speedup" in summary:
        speedup = summary["article_speedup"]
        console.print(f"the article's coremltools idiom takes {speedup:.1f}× as long as reinit fc6 "
                      f"[{_verdict(speedup >= ARTICLE_TARGET)}, target ≥ {ARTICLE_TARGET:g}]")
    seconds, cpu = summary["validate_deep_seconds"], summary["cases"]["validate 10,000 layers"]["cpu_seconds"]
    warm = summary.get("validate_deep_warm_seconds")
    reference = summary.get("cpp_validator_seconds")
    if reference is not None and warm is not None:
        # Like for like: the oracle reports its best round of load + validate in one process.
        console.print(f"validate 10,000 layers, best round in one process: {warm:.3f} s = {warm / reference:.1f}× "
                      f"Core ML's C++ validator timed the same way in this run ({reference:.3f} s) "
                      f"[{_verdict(warm <= 5 * reference)}, target ≤ 5×]; the first validation in a fresh process "
                      f"(imports of the checks included): {seconds:.3f} s = {seconds / reference:.1f}×")
    else:
        console.print(f"validate 10,000 layers: {seconds:.2f} s ({cpu:.2f} s CPU) = {seconds / CPP_VALIDATOR_SECONDS:.1f}×"
                      f" the C++ validator's {CPP_VALIDATOR_SECONDS} s measured in issue 21 "
                      f"[{_verdict(seconds <= VALIDATE_TARGET)}, target ≤ {VALIDATE_TARGET:.1f} s]")


def _verdict(ok: bool) -> str:
    return "[green]met[/green]" if ok else "[red]MISSED[/red]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds of all cases (fastest time, highest memory)")
    parser.add_argument("--json", type=Path, default=HERE / "results.json", help="where to write the figures")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mlsurgery-bench"),
                        help="where the models are built once and reused (2 GB)")
    parser.add_argument("--skip-article", action="store_true", help="skip the slow (≈25 s, 6.5 GB) article idiom")
    parser.add_argument("--report", type=Path, help="only print the table of an earlier --json file")
    parser.add_argument("--cpp-validator", type=Path, help="a build of Core ML's C++ validator to time as the "
                        "oracle (see cpp_validator_case); without it the issue's 0.09–0.10 s is the reference")
    args = parser.parse_args()
    if args.report:
        report(json.loads(args.report.read_text()))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    summary = measure(args.workdir, args.repeat, args.skip_article, args.cpp_validator)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    report(summary)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
