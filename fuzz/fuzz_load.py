"""Coverage-guided fuzzing (Atheris / libFuzzer) of what every command does first with a file: load it, validate
it as Core ML would, and summarise it as ``inspect`` does. Anything but an ``MLSurgeryError`` is a crash.

    python fuzz/fuzz_load.py --seconds 120            # fuzz for two minutes from the fixtures and real models
    python fuzz/fuzz_load.py --seconds 600 --jobs 2   # longer, on two cores

It starts from every ``.mlmodel`` in fixtures/ (third-party models included), mutates them, and prints what it
tried: executions, how many inputs loaded as models, how many were refused (and the most common reasons), and
libFuzzer's coverage figures. A crashing input is written to tests/fuzz_cases/ (``crash-<sha1>``), where
tests/test_fuzz_cases.py runs it on every test run: fix the bug, keep the case. Exit status 0: no crash; 1: a crash
was found (its file and traceback are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "fuzz_cases"
SEEDS = ROOT / "fixtures"
SEED_LIMIT = 1 << 20  # larger models slow every execution for little new coverage


def check_one_input(data: bytes) -> str:
    """Load, validate and summarise ``data``; return 'loaded' or the kind of refusal. Other exceptions escape."""
    from mlsurgery.errors import MLSurgeryError
    from mlsurgery.io import parse_spec
    from mlsurgery.inspection import summarize
    from mlsurgery.validate import validate_spec

    try:
        spec = parse_spec(data, source="fuzz.mlmodel")
    except MLSurgeryError as error:
        message = str(error)
        if "\n" in message:
            raise AssertionError(f"a refusal spans several lines: {message!r}")
        return "refused: " + message.split(": ", 1)[-1][:60]
    validate_spec(spec)
    try:
        summarize(spec, "fuzz.mlmodel")
    except MLSurgeryError:
        return "loaded, inspect refused"
    return "loaded"


def _worker(stats_path: Path, libfuzzer_args: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["mlsurgery"]):
        import mlsurgery.io  # noqa: F401  (instrumented for coverage feedback)
        import mlsurgery.inspection  # noqa: F401
        import mlsurgery.validate  # noqa: F401

    outcomes: Counter = Counter()
    last_flush = [0.0]

    def one_input(data: bytes) -> None:
        outcomes[check_one_input(data)] += 1
        now = time.monotonic()
        if now - last_flush[0] > 0.5:  # libFuzzer ends the process with exit(): keep the file current
            last_flush[0] = now
            stats_path.write_text(json.dumps(outcomes))

    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="how long to fuzz (default 60)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel fuzzing processes (default 1)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.worker:
        _worker(args.worker, rest)
        return 0

    CASES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlsurgery-fuzz-") as scratch:
        corpus = Path(scratch) / "corpus"
        corpus.mkdir()
        seeds = [path for path in sorted(SEEDS.rglob("*.mlmodel")) if path.stat().st_size <= SEED_LIMIT]
        for index, path in enumerate(seeds):
            (corpus / f"{index:03d}-{path.name}").write_bytes(path.read_bytes())
        workers = []
        for job in range(args.jobs):
            stats = Path(scratch) / f"stats-{job}.json"
            command = [sys.executable, __file__, "--worker", str(stats), str(corpus),
                       f"-max_total_time={args.seconds}", f"-artifact_prefix={CASES}/", "-print_final_stats=1",
                       "-max_len=1048576", "-rss_limit_mb=4096", "-timeout=30"]
            log = open(Path(scratch) / f"log-{job}.txt", "w")
            workers.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                             env={**os.environ, "PYTHONPATH": str(ROOT)}), stats, log))
        crashed = False
        outcomes: Counter = Counter()
        for process, stats, log in workers:
            process.wait()
            log.close()
            text = Path(log.name).read_text(errors="replace")
            if stats.exists():
                outcomes.update(json.loads(stats.read_text()))
            final = [line for line in text.splitlines() if line.startswith(("stat::", "#")) and "DONE" in line
                     or line.startswith("stat::")]
            if process.returncode != 0:
                crashed = True
                print(text[-4000:])
            else:
                print("\n".join(final[-8:]))
        total = sum(outcomes.values())
        print(f"fuzz_load: {total} inputs tried in {args.seconds} s × {args.jobs} job(s) from {len(seeds)} seed "
              f"models; {outcomes.get('loaded', 0) + outcomes.get('loaded, inspect refused', 0)} loaded as models "
              f"and validated, {sum(n for k, n in outcomes.items() if k.startswith('refused'))} refused in one line")
        for outcome, count in outcomes.most_common(6):
            print(f"  {count:8d}  {outcome}")
        if crashed:
            print(f"fuzz_load: CRASH: the input is in {CASES}/ (crash-*); tests/test_fuzz_cases.py will run it")
            return 1
        print("fuzz_load: no crash")
        return 0


if __name__ == "__main__":
    sys.exit(main())
