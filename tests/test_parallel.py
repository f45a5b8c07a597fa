"""`clir_bench.core.parallel.pmap`: the same list in the same order, however many processes."""

from clir_bench.core.parallel import pmap


def test_pmap_keeps_the_order_of_its_items_whatever_order_it_runs_them_in():
    items = [[0] * n for n in (3, 9, 1, 4, 7, 2)]
    assert pmap(len, items, workers=2, cost=len) == [3, 9, 1, 4, 7, 2]
    assert pmap(len, items, workers=1) == [3, 9, 1, 4, 7, 2]
    assert pmap(len, [], workers=2) == []
