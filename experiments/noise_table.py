"""Markdown tables from `clir-bench run` results across the noise tracks: per system, MAP per
language and the low/high means and gap at each noise rate.

    python experiments/noise_table.py build/run   # reads build/run/noise-*/results.json
"""

import json
import sys
from pathlib import Path


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "build/run")
    runs = {p.parent.name: json.loads(p.read_text()) for p in sorted(root.glob("noise-*/results.json"))}
    if not runs:
        sys.exit(f"no results under {root}/noise-*/results.json; run `clir-bench run --track noise-0.3` first")
    systems = list(dict.fromkeys(s for r in runs.values() for s in r["systems"]))
    langs = list(next(r for res in runs.values() for r in res["systems"].values() if r["status"] == "ok")["languages"])
    print("| system | track | " + " | ".join(langs) + " | low | high | gap [95% CI] |")
    print("|---|---|" + "---|" * (len(langs) + 3))
    for system in systems:
        for track, result in runs.items():
            row = result["systems"].get(system)
            if row is None:
                continue
            if row["status"] != "ok":
                print(f"| {system} | {track} | {row['status']} |")
                continue
            langs = list(row["languages"])
            s = row["summary"]
            gap = s["ci"]["gap"]
            print(f"| {system} | {track} | " + " | ".join(f"{row['languages'][lang]['map']:.3f}" for lang in langs)
                  + f" | {s['map']['low']:.3f} | {s['map']['high']:.3f} | {s['map']['gap']:+.3f}"
                  + f" [{gap[0]:+.2f}, {gap[1]:+.2f}] |")


if __name__ == "__main__":
    main()
