"""clir-bench's reference systems. Each is a small class registered in the entry-point group
`clir_bench.systems` (pyproject.toml), the same way a participant's system plugs in, and uses
only the harness's public API: a Track (`track.data("test")`, `track.noisy_bitext()`) in,
a run ({qid: {docid: score}}) out.
"""
