"""Wall and CPU time of `make test`: in parallel (the default) against one process, same run.

    .venv/bin/python bench/test_suite.py                      # SQLite (or $DATABASE_URL)
    .venv/bin/python bench/test_suite.py --rounds 2 --coverage

Each round runs `make test TEST_WORKERS=0` (the baseline: the whole suite in one process) and
`make test` (one pytest-xdist worker per core), alternating so that a change in the machine's load
hits both. Prints, per configuration, the wall seconds, the CPU seconds of every process the run
waited for (pytest, its workers, the servers and subprocesses the tests start) and pytest's own
summary line; `--coverage` adds the arguments .ci/run gives pytest.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COVERAGE_ARGS = "--cov --cov-report= --cov-fail-under=0"


def run(workers: str, pytest_args: str) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", "test", f"TEST_WORKERS={workers}"]
        + ([f"PYTEST_ARGS={pytest_args}"] if pytest_args else []),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [line for line in result.stdout.splitlines() if " in " in line and "=" in line]
    summary = lines[-1].strip("= ") if lines else f"exit {result.returncode}, no summary"
    if result.returncode != 0:
        summary += f" (exit {result.returncode})"
    return wall, cpu, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", default="auto", help="TEST_WORKERS of the parallel runs")
    parser.add_argument("--coverage", action="store_true", help="with .ci/run's coverage")
    parser.add_argument("--pytest-args", default="", help="more PYTEST_ARGS for both")
    args = parser.parse_args()
    pytest_args = " ".join(filter(None, [COVERAGE_ARGS if args.coverage else "", args.pytest_args]))
    database = os.environ.get("DATABASE_URL", "sqlite (in memory)").rsplit("@", 1)[-1]
    print(f"database: {database}; cores: {os.cpu_count()}; load: {os.getloadavg()}")
    configs = {"one process (TEST_WORKERS=0)": "0", f"TEST_WORKERS={args.workers}": args.workers}
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in configs}
    for round_number in range(1, args.rounds + 1):
        for name, workers in configs.items():
            wall, cpu, summary = run(workers, pytest_args)
            figures[name].append((wall, cpu))
            print(f"round {round_number} {name}: wall {wall:.1f} s, cpu {cpu:.1f} s — {summary}")
            sys.stdout.flush()
    baseline = statistics.median(w for w, _ in figures[next(iter(configs))])
    for name, runs in figures.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name}: median wall {wall:.1f} s ({wall / baseline:.2f} x), cpu {cpu:.1f} s")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
