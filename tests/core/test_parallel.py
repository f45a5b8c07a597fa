"""`clir_bench.core.parallel.pmap`: the same list in the same order, however many processes."""

from clir_bench.core.parallel import pmap


def test_pmap_keeps_the_order_of_its_items_whatever_order_it_runs_them_in():
    items = [[0] * n for n in (3, 9, 1, 4, 7, 2)]
    assert pmap(len, items, workers=2, cost=len) == [3, 9, 1, 4, 7, 2]
    assert pmap(len, items, workers=1) == [3, 9, 1, 4, 7, 2]
    assert pmap(len, [], workers=2) == []


def test_a_script_without_a_main_guard_can_use_it(tmp_path):
    """As a researcher's script or notebook calls `diagnose_track`: no `if __name__ == "__main__"`."""
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text("from clir_bench.core.parallel import pmap\nprint(pmap(len, ['ab', 'c', 'def'], workers=2))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[2, 1, 3]", done.stderr


def test_a_worker_ends_when_the_process_that_started_it_is_killed(tmp_path):
    """`run --workers N`: a parent killed with SIGKILL (no chance to stop its pool) leaves no worker
    training for nobody."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import multiprocessing, os, sys, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from clir_bench.workers import watch_parent\n"
        "if __name__ == '__main__':\n"
        "    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn'),\n"
        "                               initializer=watch_parent, initargs=(os.getpid(), 0.2))\n"
        "    print(pool.submit(os.getpid).result(), flush=True)\n"
        "    pool.submit(time.sleep, 60)\n"
        "    time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    for _ in range(50):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    raise AssertionError("the worker outlived its parent by 5 s")
