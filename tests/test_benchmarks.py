"""The GPU benchmark's CPU smoke configuration: every section runs and prints its row (the figures
themselves are measured on a GPU by hand, never asserted here)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_benchmark_runs_on_cpu_in_its_smoke_configuration(tiny):
    pytest.importorskip("ot")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--smoke", "--device", "cpu",
                           "--encoder", str(tiny)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert out.startswith("device: CPU")
    rows = {line.split("|")[0].strip(): line for line in out.splitlines() if "|" in line}
    assert set(rows) == {"train", "ot sinkhorn", "ot unbalanced", "ot partial", "ot emd", "encode", "ddp"}, out
    assert re.search(r"[\d.]+ ms/step, [\d,]+ tokens/s, [\d.,]+ GFLOP/step", rows["train"])
    for solver in ("sinkhorn", "unbalanced", "partial", "emd"):  # the same values as POT's
        assert float(re.search(r"max rel diff ([\d.e+-]+)", rows[f"ot {solver}"])[1]) < 1e-3, rows[f"ot {solver}"]
    assert re.search(r"[\d,]+ docs/s", rows["encode"])
    assert "(gloo, world 2)" in rows["ddp"], rows["ddp"]
