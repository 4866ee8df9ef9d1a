"""Benchmark mlsurgery's surgery on a VGG16-sized model against the bare protobuf floor and the article's idiom.

    python benchmarks/run.py [--repeat 3] [--json benchmarks/results.json] [--workdir DIR] [--skip-article]

Builds the models (benchmarks/vgg16_spec.py: fp32 553 MB, plus fp16 and 8-bit versions) in a temporary folder,
then runs every case in a fresh process (benchmarks/cases.py, benchmarks/baseline_article_reinit.py), one after
another, and reports side by side:

(a) seconds of each operation and of the make_nn.py job, each including load and save, divided by the seconds
    of a bare read + parse + serialize + write (with fsync, as save_spec does) of the same input — target ≤ 1.5;
(b) the article's coremltools Kaiming re-init of fc6 divided by ours — target ≥ 4;
(c) peak resident memory of each case (ru_maxrss of that process, read with os.wait4) divided by the larger of
    its input and output file — target ≤ 2.5.

Cases run in --repeat whole rounds; each case's time is its fastest run and its memory its highest.
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
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

TIME_TARGET, SPEEDUP_TARGET, MEMORY_TARGET = 1.5, 4.0, 2.5


@dataclass
class Case:
    name: str
    script: str  # file in benchmarks/
    args: list[str]
    model: str  # which built model is the input: fp32, fp16 or int8
    what: str


CASES = [
    Case("bare", "cases.py", ["bare"], "fp32", "read + parse + serialize + write (fsync), no mlsurgery"),
    Case("bare, no fsync", "cases.py", ["bare_nosync"], "fp32", "the same without fsync"),
    Case("widen", "cases.py", ["widen"], "fp32", "widen fc8 1000 → 1010 (kaiming rows)"),
    Case("reinit fc6", "cases.py", ["reinit"], "fp32", "Kaiming re-init of fc6 (25088 × 4096)"),
    Case("reinit fc6-fc8", "cases.py", ["reinit_dense"], "fp32", "Kaiming re-init of fc6, fc7, fc8"),
    Case("make_nn.py job", "cases.py", ["job"], "fp32",
         "widen fc8 → 1010, Kaiming re-init fc8, make-updatable (loss, SGD, epochs), validate, save"),
    Case("bare fp16", "cases.py", ["bare"], "fp16", "bare floor of the fp16 model"),
    Case("to-fp32", "cases.py", ["to_fp32"], "fp16", "every fp16 weight → fp32 (output is the fp32 size)"),
    Case("bare int8", "cases.py", ["bare"], "int8", "bare floor of the 8-bit model"),
    Case("dequantize", "cases.py", ["dequantize"], "int8", "all 16 layers 8-bit linear → fp32"),
    Case("article reinit fc6", "baseline_article_reinit.py", [], "fp32",
         "coremltools idiom of hollance/coreml-training make_nn.py, Kaiming re-init of fc6"),
]


def run_case(case: Case, model: Path, out: Path) -> dict:
    """Run one case in a fresh process; its own clock, the process's wall time and its peak RSS."""
    script = HERE / case.script
    args = [sys.executable, str(script)] + (case.args + [str(model), str(out)] if case.args else [str(model), str(out)])
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, like RUSAGE_CHILDREN for one child
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{case.name} failed:\n{stderr}")
    result = json.loads(stdout.strip().splitlines()[-1])
    return {"seconds": result["seconds"], "process_seconds": wall, "peak_bytes": usage.ru_maxrss * 1024,
            "output_bytes": out.stat().st_size, **{k: v for k, v in result.items() if k != "seconds"}}


def measure(workdir: Path, repeat: int, skip_article: bool) -> dict:
    models, build_seconds = {}, {}
    for precision in ("fp32", "fp16", "int8"):
        # Built in a child process: a child's peak RSS starts from its parent's, so this process stays small.
        models[precision] = workdir / f"vgg16_{precision}.mlmodel"
        started = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "vgg16_spec.py"), str(models[precision]), "--precision",
                        precision], check=True, stdout=subprocess.DEVNULL)
        build_seconds[precision] = time.perf_counter() - started
    cases = [case for case in CASES if not (skip_article and case.script == "baseline_article_reinit.py")]
    runs: dict[str, list[dict]] = {case.name: [] for case in cases}
    for _ in range(repeat):  # whole rounds, so a slow spell of a shared machine hits every case alike
        for case in cases:
            runs[case.name].append(run_case(case, models[case.model], workdir / "out.mlmodel"))
    results = {}
    for case in cases:
        fastest = min(runs[case.name], key=lambda run: run["seconds"])
        results[case.name] = {**asdict(case), **fastest, "input_bytes": models[case.model].stat().st_size,
                              "peak_bytes": max(run["peak_bytes"] for run in runs[case.name]),
                              "all_seconds": [run["seconds"] for run in runs[case.name]]}
    bare_of = {"fp32": results["bare"]["seconds"], "fp16": results["bare fp16"]["seconds"],
               "int8": results["bare int8"]["seconds"]}
    for result in results.values():
        result["vs_bare_same_input"] = result["seconds"] / bare_of[result["model"]]
        # An fp32 output is as big as the fp32 model: its writing costs what the fp32 bare run pays.
        result["vs_bare_fp32"] = result["seconds"] / bare_of["fp32"]
        result["peak_per_file"] = result["peak_bytes"] / max(result["input_bytes"], result["output_bytes"])
    summary = {"build_seconds": build_seconds, "cases": results, "machine": _machine()}
    if "article reinit fc6" in results:
        article, ours = results["article reinit fc6"], results["reinit fc6"]
        summary["article_speedup_reinit_fc6"] = article["seconds"] / ours["seconds"]
        summary["article_speedup_reinit_fc6_whole_process"] = article["process_seconds"] / ours["process_seconds"]
    return summary


def _machine() -> dict:
    import google.protobuf
    import numpy

    from google.protobuf.internal import api_implementation

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "numpy": numpy.__version__, "protobuf": f"{google.protobuf.__version__} ({api_implementation.Type()})"}


def report(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    table = Table(title="mlsurgery on a VGG16-sized model (fastest of the rounds)", title_justify="left")
    for column in ("case", "in MB", "out MB", "seconds", "× bare", "× bare fp32", "peak MB", "peak / file",
                   "targets"):
        table.add_column(column, justify="left" if column in ("case", "targets") else "right")
    for name, result in summary["cases"].items():
        operation = not name.startswith(("bare", "article"))
        time_ok = min(result["vs_bare_same_input"], result["vs_bare_fp32"]) <= TIME_TARGET
        memory_ok = result["peak_per_file"] <= MEMORY_TARGET
        verdict = (f"time {'ok' if time_ok else 'MISSED'}, memory {'ok' if memory_ok else 'MISSED'}"
                   if operation else "")
        table.add_row(name, f"{result['input_bytes'] / 1e6:.0f}", f"{result['output_bytes'] / 1e6:.0f}",
                      f"{result['seconds']:.2f}", _mark(result["vs_bare_same_input"], time_ok if operation else None),
                      f"{result['vs_bare_fp32']:.2f}", f"{result['peak_bytes'] / 1e6:.0f}",
                      _mark(result["peak_per_file"], memory_ok if operation else None), verdict)
    console.print(table)
    if "article_speedup_reinit_fc6" in summary:
        speedup = summary["article_speedup_reinit_fc6"]
        console.print(f"Kaiming re-init of fc6: the article's idiom takes {speedup:.1f}× as long as mlsurgery "
                      f"(whole processes with imports: {summary['article_speedup_reinit_fc6_whole_process']:.1f}×); "
                      f"target ≥ {SPEEDUP_TARGET:g}: {'met' if speedup >= SPEEDUP_TARGET else 'MISSED'}")
    console.print(f"targets: operations ≤ {TIME_TARGET:g}× bare (same input, or the fp32 bare for outputs of that "
                  f"size), peak ≤ {MEMORY_TARGET:g}× the larger of input and output; the job includes "
                  f"make-updatable: {summary['cases']['make_nn.py job'].get('job_includes_make_updatable')}")


def _mark(value: float, ok: bool | None) -> str:
    text = f"{value:.2f}"
    if ok is None:
        return text
    return f"[green]{text}[/green]" if ok else f"[red]{text}[/red]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds of all cases (fastest time, highest memory)")
    parser.add_argument("--json", type=Path, default=HERE / "results.json", help="where to write the figures")
    parser.add_argument("--workdir", type=Path, help="keep the built models here instead of a temporary folder")
    parser.add_argument("--skip-article", action="store_true", help="skip the slow (≈20 s, 6.5 GB) article idiom")
    args = parser.parse_args()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        summary = measure(args.workdir, args.repeat, args.skip_article)
    else:
        with tempfile.TemporaryDirectory(prefix="mlsurgery-bench-") as folder:
            summary = measure(Path(folder), args.repeat, args.skip_article)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    report(summary)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
