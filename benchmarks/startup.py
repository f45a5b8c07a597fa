"""Start-up cost of the CLI: `clir-bench score --help` and `--version`, median of 7 process runs.

The goal is under 0.5 s; what keeps it there is that score/validate import no torch,
transformers, ir_datasets or scipy (tests/test_cli.py checks the imports, not the clock).
"""

import statistics
import subprocess
import sys
import time


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "clir_bench", *args], capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    for args in (["score", "--help"], ["validate", "--help"], ["--version"]):
        times = [timed(args) for _ in range(7)]
        print(f"clir-bench {' '.join(args):16s} median {statistics.median(times):.3f} s  (min {min(times):.3f})")
    base = statistics.median(timed_python() for _ in range(7))
    print(f"python -c pass                  median {base:.3f} s  (interpreter floor)")


def timed_python() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
