"""`clir-bench leaderboard build|serve`: content, invalid entries, hostile input, cache, and a real browser."""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from synthetic_store import make_store, synthetic_run

from clir_bench.leaderboard.store import metadata, store
from clir_bench.tracks.track import get_track

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
TRACKS = ("noise-0.0", "noise-0.1", "noise-0.3", "noise-0.5")


@pytest.fixture(scope="module")
def store_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("board") / "submissions"
    made = make_store(root, systems=5, tracks=TRACKS)
    return root, made


def _build(cli, root, out, *extra):
    code, output = cli("leaderboard", "build", "--submissions", root, "--out", out, "--bootstrap", "200", *extra)
    assert code == 0, output
    return output


def _html(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*.html")}


def test_build_lists_every_track_and_submission(cli, store_root, tmp_path):
    root, made = store_root
    output = _build(cli, root, tmp_path / "site")
    assert f"{len(made)} submission(s) on 4 track(s), 0 invalid" in output
    site = tmp_path / "site"
    index = (site / "index.html").read_text()
    for track, name in made:
        assert f'id="track-{track}"' in index
        assert (site / "s" / track / name / "index.html").is_file()
        assert f'href="s/{track}/{name}/index.html"' in index
    table = json.loads((site / "data" / "noise-0.3.json").read_text())
    assert table["about"]["track"] == "noise-0.3" and table["about"]["provenance"]["qrels_sha256"]  # self-describing
    rows = table["rows"]
    assert [r["order"] for r in rows] == sorted(r["order"] for r in rows)
    assert rows[0]["group"] == "top" and all(r["group"] in ("top", "below #1") for r in rows)
    assert all(r["gap"] == pytest.approx(r["high"] - r["low"]) for r in rows)
    csv_head = (site / "data" / "noise-0.3.csv").read_text().splitlines()[0]
    assert csv_head.startswith("order,name,group,p_vs_top_holm,team,produced_by,sw,sw_ci_low,sw_ci_high")
    noise = (site / "noise.html").read_text()
    assert noise.count('class="series"') == 2 * 5  # MAP and gap charts, one line per system
    assert noise.count('class="heatmap"') == 5
    page = (site / "s" / "noise-0.3" / "system-004" / "index.html").read_text()
    assert "Compared with other systems" in page and "Holm" in page
    sig = json.loads((site / "s" / "noise-0.3" / "system-004" / "compare-1.json").read_text())["rows"]
    assert [t["group"] for t in sig] == [*get_track("noise-0.3").languages, "mean", "low mean", "high mean", "gap"]
    assert {t["unit"] for t in sig[-4:]} == {"topics"}
    for html in _html(site).values():  # provenance on every page; nothing fetched from elsewhere
        assert "pytrec_eval" in html and "qrels sha256" in html
        assert not re.search(r'(src|href)="(https?:)?//', html)


def test_scores_match_clir_bench_score(cli, store_root, tmp_path):
    root, _ = store_root
    _build(cli, root, tmp_path / "site")
    run = root / "noise-0.3" / "system-003" / "run.trec"
    code, output = cli("score", run, "--track", "noise-0.3", "--json", "--bootstrap", "200")
    assert code == 0, output
    report = json.loads(output[output.index("{"):])
    row = next(r for r in json.loads((tmp_path / "site" / "data" / "noise-0.3.json").read_text())["rows"]
               if r["name"] == "system-003")
    assert row["gap"] == pytest.approx(report["summary"]["map"]["gap"], abs=1e-12)
    assert row["sw"] == pytest.approx(report["languages"]["sw"]["mean"]["map"], abs=1e-12)


def test_rebuild_uses_the_cache_and_gives_the_same_site(cli, store_root, tmp_path):
    root, made = store_root
    site = tmp_path / "site"
    _build(cli, root, site)
    first = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    output = _build(cli, root, site)
    assert f"0 scored, {len(made)} from the cache" in output
    assert first == {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    copy = tmp_path / "subs"
    shutil.copytree(root, copy)
    (copy / "noise-0.3" / "system-003" / "run.trec").write_text(synthetic_run(get_track("noise-0.3"), skill=0.3,
                                                                              seed=99))
    output = _build(cli, copy, site)
    assert f"1 scored, {len(made) - 1} from the cache" in output


def test_invalid_entries_are_listed_and_the_build_succeeds(cli, tmp_path):
    root = tmp_path / "subs"
    make_store(root, systems=2, tracks=("noise-0.3",))
    track = get_track("noise-0.3")
    bad_run = tmp_path / "bad.trec"
    bad_run.write_text("sw-0101 Q0 udhr-0101 1 1.0 t\nsw-0101 Q0 udhr-0101 2 0.5 t\n")
    store(root=root, meta=metadata(name="dup-docs", track=track), run=bad_run)
    (root / "noise-0.3" / "broken-json").mkdir()
    (root / "noise-0.3" / "broken-json" / "run.trec").write_text("")
    (root / "noise-0.3" / "broken-json" / "metadata.json").write_text('{\n "name": "broken-json",\n}')
    old = json.loads((root / "noise-0.3" / "ref-0" / "metadata.json").read_text())
    shutil.copytree(root / "noise-0.3" / "ref-0", root / "noise-0.3" / "old-version")
    for run in (root / "noise-0.3" / "old-version").glob("run.trec*"):  # another run: only its version is wrong
        run.unlink()
    (root / "noise-0.3" / "old-version" / "run.trec").write_text(synthetic_run(track, skill=0.5, seed=99))
    (root / "noise-0.3" / "old-version" / "metadata.json").write_text(
        json.dumps({**old, "name": "old-version", "track_version": 0}))
    (root / "noise-9.9").mkdir()
    output = _build(cli, root, tmp_path / "site")
    assert "2 submission(s) on 1 track(s), 4 invalid" in output
    listed = json.loads((tmp_path / "site" / "data" / "invalid.json").read_text())["rows"]
    invalid = {b["where"]: b["reason"] for b in listed}
    assert "run.trec:2: found document 'udhr-0101' a second time" in invalid["noise-0.3/dup-docs"]
    assert invalid["noise-0.3/broken-json"].startswith("noise-0.3/broken-json/metadata.json:3:")
    assert "submitted for version 0 of noise-0.3, which is now version 2" in invalid["noise-0.3/old-version"]
    assert "unknown track" in invalid["noise-9.9"] and "Did you mean 'noise-0.5'?" in invalid["noise-9.9"]
    index = (tmp_path / "site" / "index.html").read_text()
    assert "Invalid submissions (3)" in index and "Entries that are not submissions (1)" in index


def test_a_hostile_submission_is_escaped_or_refused(cli, tmp_path):
    root = tmp_path / "subs"
    make_store(root, systems=2, tracks=("noise-0.3",))
    track = get_track("noise-0.3")
    run = tmp_path / "hostile.trec"
    run.write_text(synthetic_run(track, skill=0.9, seed=7))
    meta = metadata(name="hostile", track=track, team='<script>alert("team")</script>',
                    description='<img src=x onerror=alert(1)>"><script>alert(2)</script>{{ 7*7 }}',
                    url="https://example.org/?q=a&b=c")
    store(root=root, meta=meta, run=run)
    # Hand-made entries that try to leave the store or smuggle markup through names and paths.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("x-secret-7f3a")
    shutil.copytree(root / "noise-0.3" / "hostile", outside / "sub")
    (outside / "sub" / "metadata.json").write_text(json.dumps({**meta, "name": "linked"}))
    (root / "noise-0.3" / "linked").symlink_to(outside / "sub")
    (root / "noise-0.3" / "<script>alert(3)<").mkdir()
    traversal = root / "noise-0.3" / "traversal"
    traversal.mkdir()
    (traversal / "run.trec").symlink_to(outside / "secret.txt")
    (traversal / "metadata.json").write_text(json.dumps({**meta, "name": "../../../outside"}))
    scheme = root / "noise-0.3" / "scheme"
    shutil.copytree(root / "noise-0.3" / "hostile", scheme)
    (scheme / "metadata.json").write_text(json.dumps({**meta, "name": "scheme", "url": "javascript:alert(4)"}))
    escape = root / "noise-0.3" / "escape"
    escape.mkdir()
    shutil.copy(run, escape / "run.trec")
    (escape / "metadata.json").write_text(json.dumps({**meta, "name": "../escape"}))
    before = sorted(p.name for p in tmp_path.iterdir())
    output = _build(cli, root, tmp_path / "site")
    assert "3 submission(s) on 1 track(s), 5 invalid" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "site"])  # nothing written beside
    listed = json.loads((tmp_path / "site" / "data" / "invalid.json").read_text())["rows"]
    invalid = {b["where"]: b["reason"] for b in listed}
    assert "not a submission folder" in invalid["noise-0.3/linked"]
    assert "not a submission folder" in invalid["noise-0.3/<script>alert(3)<"]
    assert "found a symbolic link, expected a plain file" in invalid["noise-0.3/traversal"]
    assert "is not a safe slug" in invalid["noise-0.3/escape"]
    assert "expected an http(s):// address" in invalid["noise-0.3/scheme"]
    site = tmp_path / "site"
    html = _html(site)
    assert set(html) == {"index.html", "noise.html", "submit.html", "topics/noise-0.3.html",
                         *(f"s/noise-0.3/{n}/index.html" for n in ("ref-0", "ref-1", "hostile"))}
    for text in html.values():
        assert "x-secret-7f3a" not in text
        assert not re.search(r"<script>alert|<img", text)  # markup only as escaped text
    page = html["s/noise-0.3/hostile/index.html"]
    assert "&lt;script&gt;alert(&#34;team&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;{{ 7*7 }}" in page
    assert "&lt;script&gt;alert(3)&lt;" in html["index.html"]
    assert 'href="https://example.org/?q=a&amp;b=c"' in page and 'href="javascript:' not in "".join(html.values())
    assert (site / "data" / "noise-0.3.csv").read_text().count("<script>") == 1  # the team, as data
    assert not list(site.rglob("*outside*")) and not list(site.rglob("*escape*"))


def test_output_folder_is_checked(cli, tmp_path):
    root = tmp_path / "subs"
    make_store(root, systems=1, tracks=("noise-0.3",), references=1)
    code, output = cli("leaderboard", "build", "--submissions", root, "--out", root / "site")
    assert code == 1 and "overlap" in output
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.tex").write_text("keep me")
    code, output = cli("leaderboard", "build", "--submissions", root, "--out", other)
    assert code == 1 and "is not a leaderboard built by clir-bench" in output
    assert (other / "thesis.tex").read_text() == "keep me"
    code, output = cli("leaderboard", "build", "--submissions", tmp_path / "none", "--out", tmp_path / "empty")
    assert code == 1 and "the submissions store" in output and "does not exist" in output
    (tmp_path / "none").mkdir()  # an empty store builds an empty site
    code, output = cli("leaderboard", "build", "--submissions", tmp_path / "none", "--out", tmp_path / "empty")
    assert code == 0 and "0 submission(s)" in output and "No submissions yet" in (
        tmp_path / "empty" / "index.html").read_text()
    code, output = cli("leaderboard", "serve", "--out", tmp_path / "mine")
    assert code == 1 and "holds no built leaderboard" in output


def test_serve(tmp_path):
    root = tmp_path / "subs"
    make_store(root, systems=1, tracks=("noise-0.3",), references=1)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "clir_bench", "leaderboard", "build", "--submissions", str(root),
                    "--out", str(site), "--bootstrap", "200"], check=True, capture_output=True)
    (tmp_path / "secret.txt").write_text("not for the web")
    (site / "outside-file").symlink_to(tmp_path / "secret.txt")
    (site / "outside-folder").symlink_to(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "clir_bench", "leaderboard", "serve", "--out", str(site),
                             "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)[0]
        with urllib.request.urlopen(url + "index.html", timeout=10) as response:
            assert "clir-bench" in response.read().decode()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url + "../../../etc/passwd", timeout=10)
        port = int(url.rsplit(":", 1)[1].strip("/"))

        def get(path: str) -> tuple[int, str]:
            import http.client

            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", path)  # as sent, not normalised by urllib
            r = c.getresponse()
            r.read()
            c.close()
            return r.status, r.getheader("Location") or ""

        assert get("/outside-file")[0] == get("/outside-folder/")[0] == 404  # links out of the site
        assert get("/outside-folder/secret.txt")[0] == 404
        assert get("/_cache/")[0] == get("/s/")[0] == 404  # no folder listings
        for hostile in ("/\\evil.example/%2f..", "//evil.example/", "/%5cevil.example/%2e%2e", "/s"):
            status, location = get(hostile)
            assert status in (301, 404), (hostile, status)
            assert not location or (location.startswith("/") and not location.startswith(("//", "/\\"))), location
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- a real browser -----------------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    required = os.environ.get("CLIR_BENCH_REQUIRE_BROWSER") == "1"  # set by .ci/run, which installs Chromium
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            raise
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).is_file():
        if required:
            pytest.fail(f"no Chromium at {CHROMIUM}")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _open(browser, url, **kw):
    page = browser.new_page(viewport={"width": 1600, "height": 900}, **kw)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(url)
    return page, problems


@pytest.mark.slow
def test_site_in_headless_chromium(cli, store_root, tmp_path, browser):
    root, made = store_root
    site = tmp_path / "site"
    _build(cli, root, site)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page, problems = _open(browser, (site / "index.html").as_uri())
    for track, name in made:
        assert page.locator(f'section#track-{re.escape(track)} tr[data-name="{name}"]').count() == 1
    table = page.locator('table[data-track="noise-0.3"]')

    def gaps():
        return [float(v) for v in table.locator("tbody td.gapcol").evaluate_all("cs => cs.map(c => c.dataset.sort)")]

    assert gaps() != sorted(gaps())  # rank order first
    table.locator('th[data-col="gap"] button').click()
    assert gaps() == sorted(gaps())
    assert table.locator('th[data-col="gap"]').get_attribute("aria-sort") == "ascending"
    table.locator('th[data-col="gap"] button').click()
    assert gaps() == sorted(gaps(), reverse=True)
    page.screenshot(path=str(ARTIFACTS / "leaderboard-index.png"), full_page=True)
    # the condition filter: participants here declare no resources; unchecking that condition leaves the references
    rows = table.locator("tbody tr")
    total = page.locator("table.board tbody tr").count()  # every track's table
    page.locator('#filters input[name="condition"][value="undeclared"]').uncheck()
    visible = [n for n, hidden in zip(rows.evaluate_all("rs => rs.map(r => r.dataset.name)"),
                                      rows.evaluate_all("rs => rs.map(r => r.hidden)"), strict=True) if not hidden]
    assert sorted(visible) == ["ref-0", "ref-1"]
    assert f"of {total} rows" in page.locator("[data-filter-count]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "leaderboard-filtered.png"), full_page=True)
    page.locator('#filters input[name="condition"][value="undeclared"]').check()
    assert not any(rows.evaluate_all("rs => rs.map(r => r.hidden)"))
    assert not problems, problems

    page, problems = _open(browser, (site / "noise.html").as_uri())
    for chart in ("family-1-mean", "family-1-gap"):
        svg = page.locator(f"#{chart} svg")
        box = svg.bounding_box()
        assert box["width"] > 300 and box["height"] > 200
        assert page.locator(f"#{chart} g.series > path:not(.marker)").count() == 5
        assert page.locator(f"#{chart} g.series path.marker").count() == 5 * 4
        assert page.locator(f"#{chart} g.series line.errorbar").count() == 5 * 4  # an interval at every point
        lengths = page.locator(f"#{chart} g.series > path:not(.marker)").evaluate_all(
            "ps => ps.map(p => p.getTotalLength())")
        assert all(length > 50 for length in lengths)  # four noise rates: real lines, drawn
    assert page.locator("svg.heatmap rect").count() == 5 * len(get_track("noise-0.3").languages) * 4
    page.screenshot(path=str(ARTIFACTS / "leaderboard-noise.png"), full_page=True)
    assert not problems, problems


@pytest.mark.slow
def test_no_page_overflows_at_desktop_and_phone_widths(cli, store_root, tmp_path, browser):
    """Every page kind at 1440x900 and 390x844: the page never scrolls sideways (wide tables
    scroll inside their own box), the significance groups and chart intervals render."""
    root, made = store_root
    site = tmp_path / "site"
    _build(cli, root, site)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    track, name = made[0]
    pages = {"index": site / "index.html", "noise": site / "noise.html",
             "submission": site / "s" / track / name / "index.html"}
    widths = {}
    for width, height in ((1440, 900), (390, 844)):
        for kind, path in pages.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(path.as_uri())
            widths[(kind, width)] = page.evaluate("document.documentElement.scrollWidth")
            if kind == "index":
                assert page.locator("span.grp").count() >= 5 and page.locator("section.headline").count() == 1
                # the question's numbers are on the first screen at either width (on a phone, as a card)
                row = page.locator("table.board tbody tr").first
                for col in ("mean", "low", "high", "gap"):
                    box = row.locator(f'td[data-label="{col}"]').bounding_box()
                    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, col, box)
            if kind == "noise":
                assert page.locator("line.errorbar").count() > 0 and page.locator("line.divider").count() > 0
            page.screenshot(path=str(ARTIFACTS / f"page-{kind}-{width}.png"), full_page=False)
            page.close()
    assert all(scroll <= width for (_, width), scroll in widths.items()), widths


@pytest.mark.slow
def test_site_reads_with_javascript_off_and_runs_no_injected_script(browser, tmp_path, cli):
    root = tmp_path / "subs"
    make_store(root, systems=3, tracks=("noise-0.3",))
    run = tmp_path / "x.trec"
    run.write_text(synthetic_run(get_track("noise-0.3"), skill=0.9, seed=5))
    store(root=root, meta=metadata(name="xss", track=get_track("noise-0.3"), team="<script>alert(1)</script>",
                                   description="<img src=x onerror=alert(2)>"), run=run)
    site = tmp_path / "site"
    _build(cli, root, site)
    page, problems = _open(browser, (site / "index.html").as_uri(), java_script_enabled=False)
    ranks = page.locator('table[data-track="noise-0.3"] tbody tr td:first-child').all_inner_texts()
    assert len(ranks) == 4 and [int(r) for r in ranks] == sorted(int(r) for r in ranks)
    page, problems = _open(browser, (site / "s" / "noise-0.3" / "xss" / "index.html").as_uri())
    assert "<script>alert(1)</script>" in page.locator("dl.meta").inner_text()  # shown as text
    page.screenshot(path=str(ARTIFACTS / "leaderboard-hostile-submission.png"), full_page=True)
    assert not problems, problems  # no alert dialog, no script error


def test_noise_page_draws_detection_auc_from_recorded_diagnoses(cli, tmp_path):
    from clir_bench.noise_diagnosis import record_diagnosis

    root = tmp_path / "submissions"
    make_store(root, systems=2, tracks=("noise-0.0", "noise-0.3", "noise-0.5"))

    def report(name, *, applicable=True, sha=None, auc=0.7):
        track = get_track(name)
        rows = [{"system": s, "model": model, "signal": sig, "group": g, "auc": auc, "auc_ci": [auc - 0.05, auc + 0.05],
                 "ap": 0.5, "ap_ci": [0.4, 0.6], "corrupted": 30, "clean": 70, "base_rate": 0.3}
                for s, sigs in (("optical-unbalanced", ("mass", "ot_cost", "loss")), ("encoder-ft", ("loss",)))
                for model in ("trained", "step 0") for sig in sigs for g in ("all", "lang sw")]
        return {"track": name, "track_version": track.version, "noise": "", "bitext_sha256": sha or
                track.bitext_sha256(), "corrupted": 30, "pairs": 100, "applicable": applicable, "skipped": {},
                "rows": rows if applicable else [], **({} if applicable else {"reason": "not applicable: clean"}),
                "constant": [{"system": "optical-emd", "model": "trained", "signal": "mass", "value": 1.0},
                             {"system": "encoder-ft", "model": "step 0", "signal": "anchor", "value": 0.0}],
                "comparisons": [{"a": "encoder-ft", "a_signal": "loss", "b": "optical-unbalanced", "b_signal": "loss",
                                 "diff": -0.0123, "diff_ci": [-0.02, -0.004], "p": 0.004, "p_holm": 0.008},
                                {"a": "optical-unbalanced", "a_signal": "mass", "b": "encoder-ft", "b_signal": "loss",
                                 "diff": 0.002, "diff_ci": [-0.003, 0.007], "p": 0.4, "p_holm": 0.4}]}

    record_diagnosis(report("noise-0.0", applicable=False), root=root, track=get_track("noise-0.0"))
    record_diagnosis(report("noise-0.3", auc=0.8123), root=root, track=get_track("noise-0.3"))
    record_diagnosis(report("noise-0.5", sha="another bitext"), root=root, track=get_track("noise-0.5"))
    output = _build(cli, root, tmp_path / "site")
    assert "0 invalid" in output  # a diagnosis is not a submission
    noise = (tmp_path / "site" / "noise.html").read_text()
    assert "Rate 0: not applicable (clean bitext)" in noise
    assert "Rate 0.5: noise-0.5/diagnostics.json was made for another version or bitext" in noise
    assert "Only one noise rate has a recorded diagnosis" in noise
    for signal, systems in (("mass", 1), ("ot_cost", 1), ("loss", 2)):
        chart = noise.split(f'id="family-1-detect-{signal}"')[1].split("</figure>")[0]
        assert chart.count('class="series"') == systems and 'class="zero"' in chart  # chance at 0.5
    assert "0.812 [0.762, 0.862]" in noise and "n/a" in noise
    # a signal constant by construction is named, never drawn as a detector
    assert "no detector (listed, not drawn): encoder-ft anchor at step 0 (0.000), optical-emd mass (1.000)." in noise
    assert 'optical-emd' not in noise.split('id="family-1-detect-mass"')[1].split("</figure>")[0]
    rows = json.loads((tmp_path / "site" / "data" / "family-1-detection.json").read_text())["rows"]
    assert {(r["system"], r["signal"], r["model"], r["rate"]) for r in rows} >= {
        ("encoder-ft", "loss", "trained", 0.3), ("optical-unbalanced", "mass", "step 0", 0.3)}
    assert all(r["rate"] == 0.3 for r in rows)  # nothing from the stale or clean tracks
    # paired tests, read as the data allow: one difference clears Holm, the other does not
    assert "1 of 2 differences are significant" in noise
    assert "optical-unbalanced detects better" in noise and "no difference detected" in noise
    tests = json.loads((tmp_path / "site" / "data" / "family-1-detection-tests.json").read_text())["rows"]
    assert [(t["rate"], t["a"], t["diff_ci_low"]) for t in tests] == [(0.3, "encoder-ft", -0.02),
                                                                      (0.3, "optical-unbalanced", -0.003)]


def test_a_pair_gets_the_same_verdict_on_the_index_and_on_its_page(store_root, tmp_path):
    """One family per verdict: the mean against #1 is corrected over the track's tests against #1
    wherever it is shown, and the page names that family."""
    from clir_bench.leaderboard.data import Cache, collect

    root, _ = store_root
    board = collect(root=root, cache=Cache(None, tmp_path / "cache"), resamples=200)
    checked = 0
    for track in board.tracks:
        for row in track["rows"][1:]:
            page = next(p for p in board.pages if p["track"] == track["name"] and p["name"] == row["name"])
            versus = next(c for c in page["comparisons"] if c["label"] == "#1")
            mean = next(d for d in versus["rows"] if d["group"] == "mean")
            assert mean["significant"] == row["vs_top"]["distinguishable"]
            assert mean["p_t_holm"] == row["vs_top"]["p_holm"]
            assert "tests against #1" in mean["family"]
            checked += 1
    assert checked >= 4


def test_numbers_whose_interval_covers_chance_are_marked_no_signal(tmp_path):
    """BM25 matches no term in most low-resource queries: its low mean is chance and says so; a
    dense system's is not."""
    from clir_bench.leaderboard.data import Cache, collect

    store = tmp_path / "store"
    for name in ("bm25", "encoder-ft"):
        shutil.copytree(Path(__file__).parents[2] / "submissions" / "noise-0.3" / name, store / "noise-0.3" / name)
    board = collect(root=store, cache=Cache(None, tmp_path / "cache"), resamples=500)
    rows = {r["name"]: r for r in board.tracks[0]["rows"]}
    assert "low" in rows["bm25"]["no_signal"] and "sw" in rows["bm25"]["no_signal"]
    assert rows["encoder-ft"]["no_signal"] == []


def test_site_links_to_its_repository(cli, tmp_path):
    root = tmp_path / "subs"
    make_store(root, systems=1, tracks=("noise-0.3",), references=1)
    url = "https://git.example.org/lab/clir-bench"
    _build(cli, root, tmp_path / "site", "--repository", url)
    pages = _html(tmp_path / "site")
    assert f'href="{url}"' in pages["index.html"] and f'open a pull request to <a href="{url}"' in pages["submit.html"]
    code, output = cli("leaderboard", "build", "--submissions", root, "--out", tmp_path / "bad",
                       "--repository", "javascript:alert(1)")
    assert code == 1 and "is not an https:// URL" in output and not (tmp_path / "bad").exists()


def test_parallel_scoring_builds_the_same_site(store_root, tmp_path):
    """Runs scored ahead in two processes give the board that one process gives, byte for byte."""
    from clir_bench.leaderboard.render import build

    root, made = store_root
    one = build(submissions=root, out=tmp_path / "one", resamples=200, workers=1)
    two = build(submissions=root, out=tmp_path / "two", resamples=200, workers=2)
    assert one["scored"] == two["scored"] == len(made) and two["cache_hits"] == 0
    assert (tmp_path / "one" / "site.json").read_bytes() == (tmp_path / "two" / "site.json").read_bytes()
    assert _html(tmp_path / "one") == _html(tmp_path / "two")
    again = build(submissions=root, out=tmp_path / "two", resamples=200, workers=2)
    assert again["cache_hits"] == len(made) and again["scored"] == 0


def test_topic_pages_list_best_median_and_worst_per_unit(cli, store_root, tmp_path):
    from clir_bench.evaluation.judgments import from_track

    root, made = store_root
    _build(cli, root, tmp_path / "site")
    page = (tmp_path / "site" / "topics" / "noise-0.3.html").read_text()
    judgments = from_track(get_track("noise-0.3"))
    units = {judgments.topic(q) for q in judgments.qrels}
    assert page.count('<tr id="topic-') == len(units) == 49
    table = json.loads((tmp_path / "site" / "topics" / "noise-0.3.json").read_text())
    rows = table["rows"] if isinstance(table, dict) and "rows" in table else table
    assert all(r["best_value"] >= r["median"] >= r["worst_value"] for r in rows)
    track, name = next((t, n) for t, n in made if t == "noise-0.3")
    sub_page = (tmp_path / "site" / "s" / track / name / "index.html").read_text()
    assert 'href="../../../topics/noise-0.3.html#q-sw-0101"' in sub_page and 'id="q-sw-0101"' in page
