"""`corridor serve` in Debian's chromium (playwright, no downloaded browser): load, set a lever, run, see the
charts change, pin and compare, download the YAML and re-run it from the CLI with the same result, an upload with
an error, several sessions at once; and nothing requested from anywhere but the server."""
from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from corridor.dashboard.controls import lever_panel
from corridor.dashboard.edits import Edits, base_map, overlay, validate
from corridor.errors import InputError
from corridor.levers import BY_PATH
from corridor.scenario import load

CHROMIUM = "/usr/bin/chromium"
SMALL = {"branch": "2023-01-01", "end": "2023-05-31", "scale": "200"}   # a few seconds a run
FIRST_RUN_S = 400                     # a fresh kernel cache compiles first (~1.5-4 min on 2 shared cores)
ENV = {**os.environ, "NUMBA_NUM_THREADS": "1"}


# ----------------------------------------------------------------------------- the overlay, without a browser

def test_overlay_keeps_the_past_and_replaces_later_steps():
    """A lever set from the branch date keeps the base's earlier steps; the YAML loads as the CLI loads it."""
    sc = load("contention")
    e = Edits(values={"policies.mexico_enforcement": 2.0, "policies.contention.train": 0.6})  # train as is
    m = overlay(sc, base_map("contention"), e)
    steps = m["policies"]["mexico_enforcement"]
    assert [str(s["from"]) for s in steps] == ["2022-01-01", "2023-12-28"] and steps[-1]["value"] == 2.0
    assert "contention" not in m["policies"]          # an unchanged control writes nothing
    import yaml
    again = validate(yaml.safe_dump(m, sort_keys=False), "x.yaml")
    assert again.policies.mexico_enforcement[-1].value == 2.0


def test_dated_changes_rule_thresholds_and_bounds():
    """Dated changes add steps; a rule's threshold is edited by name; values outside the registry's bounds, dates
    outside the period and scales below 1 are refused with the field and what is valid."""
    from corridor.dashboard.callbacks import _bounded
    from corridor.dashboard.controls import read_edits
    sc = load("conditional-reopen")
    rid = [{"type": "rule", "name": "reopen-on-enforcement", "part": "condition"}]
    e = read_edits(sc, "2023-12-28", "", [], [], rid, [1.2],
                   [("2024-03-01", "policies.contention.bus", "0.1"), (None, None, None)])
    m = overlay(sc, base_map("conditional-reopen"), e)
    import yaml
    again = validate(yaml.safe_dump(m, sort_keys=False), "x.yaml")
    assert again.rules[0].condition.threshold == 1.2
    bus = again.policies.contention["bus"]
    assert [str(s.start) for s in bus][-2:] == ["2023-12-28", "2024-03-01"] and bus[-1].value == 0.1
    with pytest.raises(InputError, match=r"policies.contention.bus.*valid: a share from 0 to 1"):
        read_edits(sc, "2023-12-28", "", [], [], [], [], [("2024-03-01", "policies.contention.bus", "3")])
    with pytest.raises(InputError, match="outside the scenario's period"):
        read_edits(sc, "2031-01-01", "", [], [], [], [], [])
    with pytest.raises(InputError, match="--scale 0: valid: from 1 to 1000"):
        _bounded(0, "--scale", 1, 1000)


def test_upload_must_extend_a_bundled_scenario():
    with pytest.raises(InputError, match=r"^x\.yaml: field 'extends'"):
        validate("name: x\nextends: /etc/passwd\n", "x.yaml")
    with pytest.raises(InputError, match="at most"):
        validate("name: x\nextends: status-quo\n" + "#" * 300_000, "x.yaml")
    with pytest.raises(InputError, match="not found|extends"):
        validate("name: x\n", "../../x.yaml")


def test_controls_come_from_the_registry():
    """Every side of the talks is a group; a lever's description is its tooltip."""
    text = str(lever_panel(load("status-quo"), pd.Timestamp("2023-12-28").date()))
    for title in ("What the US gives", "What Mexico gives", "Legal pathways", "Push factors", "Transit countries"):
        assert title in text
    assert BY_PATH["policies.mexico_enforcement"].description in text


# ----------------------------------------------------------------------------- the browser

@pytest.fixture(scope="module")
def server():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (CI installs Debian's chromium)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "corridor.cli", "serve", "--port", str(port)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"corridor serve did not answer: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                    "--disable-background-networking", "--disable-component-update"])
        context = b.new_context(viewport={"width": 1400, "height": 950}, accept_downloads=True)
        yield context          # one browser, many tabs: each page load is its own session (and shares the cache)
        context.close()
        b.close()


def _page(browser, server, requests: list | None = None):
    page = browser.new_page()
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    page.goto(server)
    page.wait_for_selector("#lever-panel details")
    return page


def _settings(page, **kw):
    s = {**SMALL, **kw}
    page.fill("#branch", s["branch"])
    page.press("#branch", "Enter")
    page.wait_for_timeout(600)            # the panel re-renders with the values on the new branch date
    page.fill("#end", s["end"])
    page.press("#end", "Enter")
    page.fill("#scale", s["scale"])


def _run(page, n: int, timeout_s: float = 120) -> None:
    """Press Run and wait until this page's n-th run is done (or the page shows an error)."""
    page.click("#run")
    page.wait_for_function(f"document.querySelector('#status').innerText.startsWith('done: run {n}:') || "
                           "document.querySelector('#run-msg .error')", timeout=timeout_s * 1000)
    assert not page.locator("#run-msg .error").count(), page.inner_text("#run-msg")


def _traces(page, graph: str) -> dict[str, list]:
    page.wait_for_function(f"document.querySelector('#{graph} .js-plotly-plot') && "
                           f"document.querySelector('#{graph} .js-plotly-plot').data.length > 1", timeout=30_000)
    return page.evaluate(f"() => Object.fromEntries(document.querySelector('#{graph} .js-plotly-plot')._fullData"
                         ".map(t => [t.name, Array.from(t.y || [])]))")


def _set_lever(page, path: str, value: str) -> None:
    box = page.locator(f"input[id*='\"{path}\"']")
    if not box.is_visible():
        page.locator("details.side", has=box).locator("summary").first.click()
    box.fill(value)
    box.press("Enter")


def test_run_pin_compare_download_and_rerun(browser, server, tmp_path):
    requests: list[str] = []
    page = _page(browser, server, requests)
    assert "What Mexico gives" in page.inner_text("#lever-panel")
    tip = page.locator("input[id*='\"policies.mexico_enforcement\"']").locator("xpath=ancestor::div[contains(@class, 'lever')][1]").get_attribute("title")
    assert BY_PATH["policies.mexico_enforcement"].description in tip

    _settings(page)
    _run(page, 1, FIRST_RUN_S)
    page.click(".tab >> text=Mexico & custody")
    before = _traces(page, "fig-mexico")
    page.click("#pin")
    page.wait_for_selector("#pin-msg >> text=pinned")

    _set_lever(page, "policies.mexico_enforcement", "2.5")
    _run(page, 2)
    page.wait_for_function("Object.keys(document.querySelector('#fig-mexico .js-plotly-plot').data"
                           ".map(t => t.name)).length > 0 && document.querySelector('#fig-mexico .js-plotly-plot')"
                           ".data.some(t => (t.name || '').startsWith('pinned'))", timeout=30_000)
    after = _traces(page, "fig-mexico")
    mine = next(v for k, v in after.items() if k.startswith("run 2:") and k.endswith(": all"))
    pinned = next(v for k, v in after.items() if k.startswith("pinned"))
    assert pinned == next(v for k, v in before.items() if k.startswith("run 1") and k.endswith(": all"))
    assert sum(mine) > sum(pinned) * 1.1          # more enforcement, more detentions in Mexico

    page.click(".tab >> text=Compare")
    page.wait_for_selector("#totals-table")
    table = page.inner_text("#totals-table")
    assert "Detentions in Mexico" in table and "Mexico" in table and "people on the move" in table
    row = page.locator("#totals-table tr", has_text="Detentions in Mexico").inner_text()
    assert "+" in row.split("\t")[-1]

    page.click(".tab >> text=Scenario & downloads")
    page.wait_for_selector("#command >> text=corridor run")
    command = page.inner_text("#command")
    assert command.startswith("corridor run ") and "--scale 200" in command
    with page.expect_download() as dl:
        page.click("#dl-yaml")
    yaml_path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(yaml_path)
    with page.expect_download() as dl:
        page.click("#dl-parquet")
    dl.value.save_as(tmp_path / "page.parquet")
    page.close()

    args = shlex.split(command)
    args[args.index("--out") + 1] = str(tmp_path / "cli")
    args[2] = str(yaml_path)
    done = subprocess.run([sys.executable, "-m", "corridor.cli", *args[1:], "-q"], env=ENV, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page_df = pd.read_parquet(tmp_path / "page.parquet")
    cli_df = pd.read_parquet(tmp_path / "cli" / "metrics.parquet")
    pd.testing.assert_frame_equal(page_df, cli_df)
    assert page_df.loc[page_df.metric == "lever:policies.mexico_enforcement", "value"].max() == 2.5

    outside = [u for u in requests if not u.startswith(server)]
    assert not outside, outside                    # assets, plotly and the map: all from the server


def test_upload_error_in_the_cli_words(browser, server, tmp_path):
    bad = "name: bad\nextends: status-quo\npolicies:\n  mexico_enforcement: -1\n"
    (tmp_path / "bad.yaml").write_text(bad)
    cli = subprocess.run([sys.executable, "-m", "corridor.cli", "run", "bad.yaml", "--out", "o", "-q"],
                         cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 2
    words = " ".join(cli.stderr.split())
    page = _page(browser, server)
    page.set_input_files("#upload input[type=file]",
                         files=[{"name": "bad.yaml", "mimeType": "text/yaml", "buffer": bad.encode()}])
    page.wait_for_selector("#upload-msg .error")
    shown = " ".join(page.inner_text("#upload-msg").split())
    assert shown == words, (shown, words)
    page.set_input_files("#upload input[type=file]",
                         files=[{"name": "x.yaml", "mimeType": "text/yaml",
                                 "buffer": b"name: x\nextends: ../../../etc/x\n"}])
    page.wait_for_selector("#upload-msg >> text=must extend a bundled scenario")
    # the page still works: a good upload replaces the preset
    page.set_input_files("#upload input[type=file]",
                         files=[{"name": "ok.yaml", "mimeType": "text/yaml",
                                 "buffer": b"name: ok\nextends: contention\n"}])
    page.wait_for_selector("#upload-msg >> text=loaded ok.yaml")
    assert page.inner_text("#preset-desc").startswith("ok:")
    page.close()


def test_sessions_at_once_queue_and_stay_apart(browser, server):
    """Three pages run at once, each with its own numbering and its own run (where a run waits: next test)."""
    pages = [_page(browser, server) for _ in range(3)]
    for page in pages:
        _settings(page, end="2023-07-31", scale="100")
        page.evaluate("() => { window.__seen = []; for (const id of ['#status', '#run-msg']) {"
                      " const el = document.querySelector(id); new MutationObserver(() => window.__seen.push("
                      "el.innerText)).observe(el, {childList: true, subtree: true, characterData: true}); } }")
    for page in pages:                    # three runs asked for within a moment: one of them has to wait
        page.click("#run", no_wait_after=True)
    for page in pages:
        page.wait_for_function("document.querySelector('#status').innerText.startsWith('done: run 1:')",
                               timeout=120_000)
    seen = [s for page in pages for s in page.evaluate("() => window.__seen")]
    assert all(s.startswith(("queued run 1:", "running run 1:", "waiting: number", "done")) for s in seen), seen
    for page in pages:
        page.close()


def test_queue_places_and_bounds(tmp_path):
    """With every slot taken a run waits and knows its place; a page may not flood the queue; a failed run says
    why in the CLI's words, without the server's folders."""
    from corridor.dashboard.runqueue import RunQueue
    q = RunQueue(parallel=1, per_session=1, root=tmp_path / "runs")
    bad = "name: q\nextends: status-quo\npolicies:\n  mexico_enforcement: -3\n"   # out of bounds: refused
    first = q.submit("a", "q", bad, 1, 200, 0, "corridor run q.yaml")
    second = q.submit("b", "q", bad, 1, 200, 0, "corridor run q.yaml")
    assert second.position >= 1 and second.state == "queued"
    assert q.position(second) >= 1
    with pytest.raises(InputError, match="at most 1 at once"):
        q.submit("b", "q", bad, 1, 200, 0, "")
    deadline = time.time() + FIRST_RUN_S
    while (first.active or second.active) and time.time() < deadline:
        time.sleep(0.2)
    assert first.state == second.state == "failed"
    assert first.message.startswith("error: scenario.yaml") and "mexico_enforcement" in first.message
    assert str(tmp_path) not in first.message
    assert second.label == "run 1: q" and q.get(second.id) is second
