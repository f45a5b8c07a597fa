"""The OPTICAL trainer on a tiny random BERT: every solver and recipe, resume, and DDP."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


from clir_bench.models.encoder import Encoder, resolve  # noqa: E402
from clir_bench.models.optical import RECIPES, TeacherCache, Trainer, recipe  # noqa: E402
from clir_bench.tracks.track import get_track  # noqa: E402


@pytest.fixture(scope="module")
def setup(tiny):
    track = get_track("noise-0.3").fold_tracks()[0]
    bitext, _ = track.noisy_bitext()
    pairs = [p for lang in ("sw", "de") for p in bitext[lang][:40]]
    encoder = Encoder(resolve(str(tiny)))
    texts, english = [p.text for p in pairs], [p.english for p in pairs]
    dev = {lang: pair for lang, pair in track.data("dev").items() if lang in ("sw", "de")}
    return encoder, texts, english, TeacherCache.build(encoder, english), dev


def test_chunked_forward_and_sorted_teacher_states_equal_the_padded_ones(setup):
    from clir_bench.models.encoder import chunked_states

    encoder, texts, english, teacher, _ = setup
    batch = texts[:6] + english[:10]  # short terms and long paragraphs, padded to the longest
    tok = encoder.batch(batch, "query")
    with torch.no_grad():
        whole = encoder.model(**tok).last_hidden_state
        parts = chunked_states(encoder.model, tok, tokens=64)  # several chunks
    mask = tok["attention_mask"].bool()
    assert torch.allclose(whole[mask], parts[mask], atol=1e-5) and parts.shape == whole.shape
    memo = {}
    again = TeacherCache.build(encoder, english, memo=memo)
    assert torch.allclose(again.sentences, teacher.sentences, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(again.tokens, teacher.tokens, strict=True))
    assert len(memo) == len(set(english))
    TeacherCache.build(encoder, english[:5], memo=memo)  # every sentence known: nothing encoded again
    assert len(memo) == len(set(english))


def _weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["sinkhorn", "emd", "unbalanced", "partial"])
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_and_solver_trains(setup, name, solver):
    encoder, texts, english, teacher, dev = setup
    config = recipe(name, solver=solver, max_steps=3, eval_every=2, batch_size=8, lr=1e-3)
    trainer = Trainer(encoder, texts, english, config, dev=dev, teacher=teacher, progress=False)
    before = _weights(trainer.student)
    result = trainer.train()
    assert len(result.losses) == 3 and all(map(lambda x: x == x and abs(x) < 1e6, result.losses))
    assert [h["step"] for h in result.history] == [0, 2, 3]
    assert set(result.history[-1]["dev_map"]) == {"sw", "de"}
    assert result.best_step in (2, 3)  # a trained step, whatever step 0 scored on dev
    assert torch.equal(trainer.student.embeddings.word_embeddings.weight, before["embeddings.word_embeddings.weight"])


@pytest.mark.parametrize("select_untrained", [False, True])
def test_early_stopping_keeps_a_trained_step_unless_told_the_encoder_may_win(setup, monkeypatch, select_untrained):
    encoder, texts, english, teacher, dev = setup
    config = recipe("no-ot", max_steps=6, eval_every=2, patience=1, batch_size=8, lr=1e-3,
                    select_untrained=select_untrained)
    trainer = Trainer(encoder, texts, english, config, dev=dev, teacher=teacher, progress=False)
    scripted = iter([0.9, 0.5, 0.6, 0.4])  # step 0 (the encoder) best on dev, then steps 2, 4, 6
    monkeypatch.setattr(trainer, "evaluate", lambda: dict.fromkeys(dev, next(scripted)))
    before = _weights(trainer.student)
    result = trainer.train()
    unchanged = all(torch.equal(v, before[k]) for k, v in trainer.student.state_dict().items())
    if select_untrained:  # step 2 did not beat step 0: stop there, the student is the encoder again
        assert (result.best_step, result.steps_run, result.best_dev_map) == (0, 2, 0.9) and unchanged
    else:  # step 0 is recorded, never kept: the best trained step (4), stopped at the next evaluation (6)
        assert (result.best_step, result.steps_run, result.best_dev_map) == (4, 6, 0.6) and not unchanged
        assert [h["step"] for h in result.history] == [0, 2, 4, 6]


def test_mass_weighting_downweights_low_mass_pairs(setup):
    encoder, texts, english, teacher, _ = setup
    trainer = Trainer(encoder, texts, english, recipe("mass-weighted", solver="unbalanced", batch_size=8),
                      teacher=teacher, progress=False)
    loss, terms = trainer._loss(list(range(8)), list(range(8)))
    assert 0 < terms["mass"] < 1 and loss.requires_grad


@pytest.mark.slow
def test_resume_ends_with_the_weights_of_an_uninterrupted_run(setup, tmp_path):
    encoder, texts, english, teacher, dev = setup
    config = recipe("reference", solver="unbalanced", max_steps=6, eval_every=2, patience=10, batch_size=8, lr=1e-3)
    whole = Trainer(encoder, texts, english, config, dev=dev, teacher=teacher, progress=False)
    whole_result = whole.train()
    first = Trainer(encoder, texts, english, config, dev=dev, teacher=teacher, out_dir=tmp_path, progress=False)
    first.train(checkpoint_every=3, until=3)
    assert (tmp_path / "checkpoint.pt").is_file()
    second = Trainer(encoder, texts, english, config, dev=dev, teacher=teacher, out_dir=tmp_path, progress=False,
                     log=lambda *a: None)
    resumed = second.train(resume=True)
    assert resumed.losses == pytest.approx(whole_result.losses, rel=1e-6)
    assert resumed.best_step == whole_result.best_step
    for k, v in whole.student.state_dict().items():
        assert torch.allclose(v, second.student.state_dict()[k], atol=1e-6), k


@pytest.mark.slow
def test_gradient_accumulation_matches_one_batch_without_contrastive(setup):
    encoder, texts, english, teacher, _ = setup
    runs = []
    for accum in (1, 2):
        config = recipe("centred+anchor", max_steps=2, batch_size=8, grad_accum=accum, lr=1e-3)
        trainer = Trainer(encoder, texts, english, config, teacher=teacher, progress=False)
        runs.append((trainer.train(), trainer.student.state_dict()))
    assert runs[0][0].losses == pytest.approx(runs[1][0].losses, rel=1e-5)
    for k, v in runs[0][1].items():  # rounding, amplified at most to lr x steps by Adam (see the DDP test)
        diff = (v - runs[1][1][k]).abs()
        assert diff.mean() < 1e-6 and diff.max() <= 2 * 1e-3 + 1e-6, (k, float(diff.mean()), float(diff.max()))


def _train_cli(tiny, out, procs):
    args = ["train", "--track", "noise-0.3", "--encoder", str(tiny), "--out", str(out), "--recipe", "reference",
            "--solver", "sinkhorn", "--max-steps", "3", "--batch-size", "8", "--lr", "1e-3", "--no-dev"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    if procs == 1:
        cmd = [sys.executable, "-m", "clir_bench", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={procs}",
               "-m", "clir_bench", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((out / "train.json").read_text())


@pytest.mark.slow
def test_two_processes_follow_one_process(tiny, tmp_path):
    from safetensors.torch import load_file

    one = _train_cli(tiny, tmp_path / "one", 1)
    two = _train_cli(tiny, tmp_path / "two", 2)
    assert two["processes"] == 2 and one["processes"] == 1
    assert two["losses"] == pytest.approx(one["losses"], rel=1e-4)
    w1 = load_file(Path(tmp_path / "one" / "student" / "model.safetensors"))
    w2 = load_file(Path(tmp_path / "two" / "student" / "model.safetensors"))
    # Gradients agree to float rounding (all-reduce sums in another order); Adam divides by sqrt(v), so a
    # weight whose gradient is ~0 can move by up to lr per step either way. Hence: the mean difference is
    # at rounding level and no weight differs by more than lr x steps.
    for k, v in w1.items():
        diff = (v - w2[k]).abs()
        assert diff.mean() < 1e-6 and diff.max() <= 3 * 1e-3 + 1e-6, (k, float(diff.mean()), float(diff.max()))


def test_train_cli_errors(cli, tiny, tmp_path):
    code, output = cli("train", "--track", "noise-0.3", "--encoder", tiny, "--out", tmp_path, "--solver", "sinkhron")
    assert code == 1 and "Did you mean 'sinkhorn'?" in output
    code, output = cli("train", "--track", "noise-0.3", "--encoder", tiny, "--out", tmp_path, "--recipe", "refrence")
    assert code == 1 and "Did you mean 'reference'?" in output
    code, output = cli("train", "--track", "noise-0.3", "--encoder", tmp_path / "nope", "--out", tmp_path,
                       "--max-steps", "1")
    assert code == 1 and "cannot load encoder" in output and "Traceback" not in output


def test_stored_query_embeddings_make_a_rerun_encode_nothing(setup, tmp_path, monkeypatch):
    from clir_bench.models.retrieval import dense_run

    encoder, _, _, _, dev = setup
    store = tmp_path / "queries.safetensors"
    first = dense_run(encoder, dev, query_store=store)
    assert store.is_file() and first == dense_run(encoder, dev)  # the same ranking as without a store
    real = encoder.embed
    monkeypatch.setattr(encoder, "embed", lambda texts, role, **kw: (
        real(texts, role, **kw) if role == "passage" or not texts else pytest.fail("a stored query was encoded")))
    assert dense_run(encoder, dev, query_store=store) == first
