"""Start-up cost: `causalbench list` and `--help` wall time against `python -c pass`, in fresh processes.

    python benchmarks/startup.py [--runs 9]

Each command runs `--runs` times in a fresh interpreter (after one warm-up run, so the file cache is
warm), interleaved with the reference; figures are medians of wall time. Also prints which heavy
modules `import causalbench` loads (it should load none: gymnasium registration is deferred until
gymnasium itself is imported).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CLI = str(Path(sys.executable).with_name("causalbench"))
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import causalbench'": [sys.executable, "-c", "import causalbench"],
    "causalbench list": [CLI, "list"],
    "causalbench --help": [CLI, "--help"],
    "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
}
HEAVY = ("numpy", "gymnasium", "networkx", "scipy", "pandas", "torch", "pgmpy", "matplotlib")


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    for cmd in COMMANDS.values():
        wall(cmd)
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for _ in range(args.runs):
        for name, cmd in COMMANDS.items():
            times[name].append(wall(cmd))
    ref = float(np.median(times["python -c pass"]))
    print(f"{'command':<34} {'median wall s':>14} {'minus python -c pass':>21}")
    for name, ts in times.items():
        med = float(np.median(ts))
        print(f"{name:<34} {med:>14.3f} {med - ref:>21.3f}")
    probe = subprocess.run([sys.executable, "-c", "import sys, causalbench; "
                            f"print([m for m in {HEAVY!r} if m in sys.modules])"],
                           check=True, capture_output=True, text=True).stdout.strip()
    print(f"\nmedians of {args.runs} fresh processes; heavy modules loaded by `import causalbench`: {probe}")


if __name__ == "__main__":
    main()
