"""clir-bench's reference systems. Each is a small class registered in the entry-point group
`clir_bench.systems` (pyproject.toml), the same way a participant's system plugs in: a Track
(`track.data("test")`, `track.noisy_bitext()`, `track.bitext_sha256()`) in, rankings
({qid: {docid: score}}) out. Besides the plugin interface (`clir_bench.systems`) they use
only errors, progress display, document streaming (`clir_bench.sources.documents`) and the
models (`clir_bench.models`); `tests/test_layout.py` checks it.
"""
