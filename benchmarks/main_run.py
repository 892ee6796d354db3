"""The default `causalbench run`: wall time and CPU time (the process and every worker) against the 90 s target.

    python benchmarks/main_run.py [--jobs 2] [--runs 1]

Runs the main job as a user does (a fresh process, the default suite, all baselines, the tuned table) into
a temporary folder, `--runs` times, and prints wall-clock seconds, CPU seconds of the whole process tree
(`RUSAGE_CHILDREN`), the number of jobs, the share of wall time spent after the last record was written
(report and plots), and the machine's load average before the run (an idle 2-core machine reads ~0).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = str(Path(sys.executable).with_name("causalbench"))
TARGET_SECONDS = 90.0


def one_run(jobs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen([CLI, "run", "--out", str(out), "--jobs", str(jobs), "--no-progress"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        last_record = start
        size = -1
        while proc.poll() is None:
            results = out / "results.jsonl"
            if results.exists() and results.stat().st_size != size:
                size, last_record = results.stat().st_size, time.perf_counter()
            time.sleep(0.05)
        wall = time.perf_counter() - start
        if proc.returncode:
            raise SystemExit(proc.stderr.read().decode()[-2000:])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        records = (out / "results.jsonl").read_text().count("\n")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "records": records, "tail": (start + wall - last_record) / wall, "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"default `causalbench run`, --jobs {args.jobs}, {os.cpu_count()} cores, python {sys.version.split()[0]}")
    for i in range(args.runs):
        r = one_run(args.jobs)
        print(f"run {i + 1}: {r['wall']:.1f} s wall ({r['wall'] / TARGET_SECONDS:.2f} of the {TARGET_SECONDS:.0f} s "
              f"target), {r['cpu']:.0f} s CPU over all processes, {r['records']} records, "
              f"{100 * r['tail']:.0f}% of wall after the last record (report, plots); load average before {r['load']:.2f}")


if __name__ == "__main__":
    main()
