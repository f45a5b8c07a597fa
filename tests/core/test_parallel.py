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
