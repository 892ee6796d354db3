"""The core works without torch and pgmpy; what needs them says which extra installs them, in one line."""

from __future__ import annotations

import subprocess
import sys

# Run in a fresh interpreter where importing torch or pgmpy fails as if they were not installed.
BLOCK = "import sys; sys.modules['torch'] = None; sys.modules['pgmpy'] = None; "


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK + code], capture_output=True, text=True)


def test_run_without_torch_skips_the_neural_baselines_with_the_extra_named(tmp_path) -> None:
    out = run(f"from causalbench.cli import main; raise SystemExit(main(['run', '--quick', '--envs', 'IRMLinear-v0', "
              f"'--out', r'{tmp_path / 'r'}', '--jobs', '1', '--no-progress']))")
    assert out.returncode == 0, out.stderr[-800:]
    skipped = (tmp_path / "r" / "skipped.json").read_text()
    assert "erm-mlp" in skipped and "pip install 'causalbench-suite[torch]'" in skipped
    assert "erm-linear" in (tmp_path / "r" / "results.jsonl").read_text()


def test_a_neural_baseline_asked_for_by_name_is_a_one_line_error() -> None:
    out = run("from causalbench.cli import main; raise SystemExit(main(['run', '--quick', '--envs', 'IRMLinear-v0', "
              "'--methods', 'erm-mlp', '--no-progress']))")
    assert out.returncode == 2
    err = out.stderr.strip()
    assert len(err.splitlines()) == 1 and "needs torch" in err and "causalbench-suite[torch]" in err, err


def test_pgmpy_interop_names_its_extra() -> None:
    out = run("import causalbench as cb; cb.make('Asia-v0').scm.to_pgmpy()")
    assert out.returncode != 0 and "causalbench-suite[pgmpy]" in out.stderr.strip().splitlines()[-1], out.stderr
    ok = run("import causalbench as cb; s = cb.score(lambda X: X[:, 0], 'IRMLinear-v0'); print(round(s.spurious_reliance, 3))")
    assert ok.returncode == 0 and float(ok.stdout) == 0.0, ok.stderr[-500:]
