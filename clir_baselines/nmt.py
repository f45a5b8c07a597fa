"""Query translation with a seq2seq model (Marian, NLLB, M2M via transformers), then BM25 over
the English documents (the same streaming index as `bm25`). No MT model for these languages ships in any package registry, so
without `--mt-model` the system reports that it did not run, never a number."""

from __future__ import annotations

from clir_bench.systems import Context, SystemResult


class NMTSystem:
    name = "nmt"
    description = "query translation (transformers seq2seq, --mt-model) + BM25"

    def run(self, track, ctx: Context) -> SystemResult:
        if not ctx.mt_model:
            return SystemResult(not_run="not run: no MT model (pass --mt-model)")
        if track.collection.english_queries:
            return SystemResult(not_run="not run: the queries are English; this system translates queries into "
                                        "English (document translation is not implemented)")
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(ctx.mt_model)
            model = AutoModelForSeq2SeqLM.from_pretrained(ctx.mt_model).to(ctx.device).eval()
        except (OSError, ValueError) as e:
            return SystemResult(not_run=f"not run: cannot load MT model {ctx.mt_model!r} ({str(e).splitlines()[0]})")
        import torch

        from clir_baselines.inverted_index import cached, top
        from clir_baselines.lexical import analysers

        _, doc_analyser, analyser = analysers(track)
        limit = min(256, getattr(model.config, "max_position_embeddings", 256) or 256)
        run, translations = {}, {}
        for lang, pair in track.data("test").items():
            qids = list(pair.queries)
            texts = [pair.queries[q] for q in qids]
            english = []
            with torch.inference_mode():
                for i in range(0, len(texts), 16):
                    enc = tokenizer(texts[i:i + 16], return_tensors="pt", padding=True, truncation=True,
                                    max_length=limit).to(ctx.device)
                    out = model.generate(**enc, max_new_tokens=min(128, limit), num_beams=1, do_sample=False)
                    english += tokenizer.batch_decode(out, skip_special_tokens=True)
            index = cached(pair.docs, doc_analyser, analyser, ctx.cache)
            for qid, text in zip(qids, english, strict=True):
                translations[qid] = text
                run[qid] = top(index.bm25(doc_analyser(text)), index.ids, track.max_docs_per_query)
        return SystemResult(run, info={"mt_model": ctx.mt_model, "example_translation": next(iter(translations.values()), "")})
