"""Markdown tables from experiments/out/optical_dev.json: dev MAP per language with 95% CIs,
class means, paired differences against zero-shot and against the no-OT control."""

import json
import sys
from pathlib import Path


def cell(x):
    return f"{x['map']:.3f} [{x['ci'][0]:.2f}, {x['ci'][1]:.2f}]"


def diff(x):
    return f"{x['diff']:+.3f} [{x['ci'][0]:+.3f}, {x['ci'][1]:+.3f}]" if x else ""


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "out" / "optical_dev.json")
    results = json.loads(path.read_text())
    for track in dict.fromkeys(r["track"] for r in results):
        rows = [r for r in results if r["track"] == track]
        langs = [k for k in rows[0]["dev"] if k not in ("low", "high")]
        print(f"\n### {track}: dev MAP (step chosen on dev), test MAP of the same student\n")
        print("| variant | step | " + " | ".join(langs) + " | low | high | test low | test high |")
        print("|" + "---|" * (len(langs) + 6))
        for r in rows:
            d, t = r["dev"], r["test"]
            step = f"{r.get('best_step', '-')}/{r.get('steps_run', '-')}"
            print(f"| {r['variant']} | {step} | " + " | ".join(f"{d[lang]['map']:.3f}" for lang in langs)
                  + f" | {cell(d['low'])} | {cell(d['high'])} | {t['low']['map']:.3f} | {t['high']['map']:.3f} |")
        print("\n| variant | low − zero-shot | high − zero-shot | low − no-OT | high − no-OT |")
        print("|---|---|---|---|---|")
        for r in rows:
            if "dev_vs_zero_shot" in r:
                z, n = r["dev_vs_zero_shot"], r.get("dev_vs_no_ot", {})
                print(f"| {r['variant']} | {diff(z['low'])} | {diff(z['high'])} | {diff(n.get('low'))} "
                      f"| {diff(n.get('high'))} |")


if __name__ == "__main__":
    main()
