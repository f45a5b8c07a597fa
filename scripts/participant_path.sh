#!/usr/bin/env bash
# The participant's path from a clean venv, timed step by step (issue 25): install without torch,
# export, a small system of one's own (examples/overlap_run.py), validate, score on dev and test,
# compare with a shipped reference run, submit to a copy of the store, check it, build the board.
#
#     bash scripts/participant_path.sh [WORKDIR]     # default: a new temporary folder
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
track=noise-0.3
mkdir -p "$work"
step() {  # step NAME COMMAND...: echo the command, run it, print its wall time
  local name=$1; shift
  printf '\n$ %s\n' "$*"
  local t0=$EPOCHREALTIME
  "$@"
  awk -v n="$name" -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "[%s: %.1f s]\n", n, b - a }'
}
cd "$work"
step venv python3 -m venv venv
source venv/bin/activate
step install pip install -q "$repo"
python -c "import importlib.util as u; print('torch installed:', u.find_spec('torch') is not None)"
cp -r "$repo/submissions" store
step export clir-bench data export --track $track --out export
step system-test python "$repo/examples/overlap_run.py" export --out mine.trec
step system-dev python "$repo/examples/overlap_run.py" export --split dev --out mine-dev.trec
step validate clir-bench validate mine.trec --track $track
step score-dev clir-bench score mine-dev.trec --track $track --split dev
step score clir-bench score mine.trec --track $track --output mine.json
step compare clir-bench compare mine.trec store/$track/encoder-zs/run.trec.gz --track $track
step submit clir-bench submit mine.trec --track $track --name char4-tfidf --team "A participant" \
    --description "character 4-gram TF-IDF cosine, query language to English" --url https://example.org/char4 \
    --resources track-bitext --submissions store
step check clir-bench leaderboard check --submissions store
step build clir-bench leaderboard build --submissions store --out site
grep -o 'data-name="char4-tfidf"' site/index.html | head -1
echo "the board: $work/site/index.html"
