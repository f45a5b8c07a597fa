"""Method cards of the reference systems, and a submission's recorded settings in readable form.

A card says what a reference system is, which paper it follows, what it trains on and with
which settings; the leaderboard shows it on the system's page beside the recorded provenance
(run time, encoder weights, training protocol, the steps early stopping chose). Cards describe
the code of `clir_baselines`; what differs per run comes from the submission's metadata.
"""

from __future__ import annotations

import re

OPTICAL = ("Huang, Yu & Allan. Improving Cross-lingual Information Retrieval on Low-Resource Languages via "
           "Optimal Transport Distillation. WSDM 2023", "https://arxiv.org/abs/2301.12566")
E5 = ("Wang et al. Multilingual E5 Text Embeddings: A Technical Report. 2024", "https://arxiv.org/abs/2402.05672")
BM25 = ("Lù. BM25S: Orders of magnitude faster lexical search via eager sparse scoring. 2024",
        "https://arxiv.org/abs/2407.03618")
PSQ = ("Darwish & Oard. Probabilistic structured query methods. SIGIR 2003", "https://doi.org/10.1145/860435.860476")
STUDENT = ("multilingual-e5-small (117.7 M parameters; the student trains 21.5 M of them, word embeddings "
           "frozen), mean pooling, cosine scores; documents by the frozen encoder")
RECIPE = ("centred token states (the teacher's mean token state subtracted), an English anchor (1 − cos, weight 1) "
          "and an in-batch contrastive term (InfoNCE, τ 0.05, weight 1); AdamW, batch 16, bf16 on CUDA")
SOLVERS = {
    "sinkhorn": "entropic OT, log-domain Sinkhorn (ε 0.05, 50 iterations), plan detached",
    "emd": "exact OT (POT's network simplex)",
    "unbalanced": "unbalanced OT, KL-relaxed marginals (ε 0.05, τ 1)",
    "partial": "partial OT moving 70 % of the mass",
}
DATA = "the track's noisy bitext of the fold (UDHR paragraph pairs of the training articles and CLDR term pairs)"

CARDS = {
    "bm25": {"what": "BM25 over the English documents with the untranslated query (k1 1.5, b 0.75; Snowball "
                     "stemming of English).", "paper": BM25, "trains on": "nothing"},
    "psq": {"what": "Probabilistic structured queries: each query term becomes its English translations, weighted "
                    "by an IBM Model 1 table, scored with BM25's weights (k1 1.5, b 0.75).",
            "paper": PSQ, "trains on": DATA},
    "nmt": {"what": "The query translated into English by a sequence-to-sequence MT model (--mt-model), then BM25.",
            "paper": None, "trains on": "nothing here (the MT model's own data)"},
    "encoder-zs": {"what": f"Dense retrieval with {STUDENT}, zero-shot.", "paper": E5, "trains on": "nothing"},
    "encoder-ft": {"what": f"The OPTICAL recipe without its OT term: the no-OT control. Student: {STUDENT}. "
                           f"Loss: {RECIPE}.", "paper": OPTICAL, "trains on": DATA},
}
for _solver, _text in SOLVERS.items():
    CARDS[f"optical-{_solver}"] = {
        "what": f"OPTICAL distillation with {_text}: the OT cost ⟨P, C⟩ between teacher (English) and student "
                f"token states, C = 1 − cos. Student: {STUDENT}. Other terms: {RECIPE}.",
        "paper": OPTICAL, "trains on": DATA}

LABELS = {
    "seconds": "run time, every fold (s)", "encoder": "encoder", "encoder_revision": "encoder weights",
    "recipe": "recipe", "solver": "OT solver", "protocol": "training protocol", "config_key": "training settings key",
    "steps_run": "training steps run", "best_dev_map": "best dev MAP", "best_step": "chosen step",
}


def card(meta: dict) -> dict | None:
    """The method card of a reference submission (by its system's base name), or None."""
    if meta.get("produced_by") != "harness":
        return None
    system = meta.get("system") or {}
    base = meta["name"].removesuffix(f"-{system.get('protocol')}") if system.get("protocol") else meta["name"]
    found = CARDS.get(base)
    if found is None:
        return None
    return {**found, "seeds": "one training seed (0) per fold" if "recipe" in system else None}


def readable(system: dict) -> list[tuple[str, str]]:
    """(label, value) for each recorded setting: known keys named in words, numbers rounded."""
    out = []
    for key, value in system.items():
        base, per_fold = (key[:-len(" (per fold)")], True) if key.endswith(" (per fold)") else (key, False)
        label = LABELS.get(base, base.replace("_", " ")) + (" per fold" if per_fold else "")
        out.append((label, _round(value)))
    return out


def _round(value) -> str:
    """Floats to 3 decimals (in comma-separated lists too); everything else as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, str) and re.fullmatch(r"-?\d+\.\d{4,}(, -?\d+\.\d{4,})*", value):
        return ", ".join(f"{float(v):.3f}" for v in value.split(", "))
    return str(value)
