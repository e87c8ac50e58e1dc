"""The audit page driven in headless Chromium by real mouse clicks and key presses (Chrome
DevTools Protocol ``Input`` events), the results checked against the codes and coder sheets.

Skipped when chromium is not installed (``make browser`` installs it).
"""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
from test_browser import Browser
from test_coding_lexicon import make_texts
from test_coding_qdpx import project  # noqa: F401  (fixture)

from tlsurvey.coding import pipeline
from tlsurvey.coding.audit import disagreement
from tlsurvey.coding.codebook import load_codebook
from tlsurvey.coding.sheets import read_sheet
from tlsurvey.io import write_table

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
    reason="chromium not installed (run `make browser` to install it)")

VISIBLE = ("JSON.stringify(Array.from(document.querySelectorAll('article.text'))"
           ".filter(a => !a.hidden).map(a => a.dataset.textId))")
KEYS = {"Tab": ("Tab", 9, ""), " ": ("Space", 32, " "), "/": ("Slash", 191, "/"),
        "Enter": ("Enter", 13, "\r")}


class Page:
    """One loaded page: click elements where they are drawn, press keys, type text."""

    def __init__(self, browser: Browser, url: str):
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", {"url": url})
        browser.wait_for("Page.loadEventFired")

    def send(self, method, params=None):
        return self.browser.send(method, params, session=self.session)

    def eval(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True})
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        box = json.loads(self.eval(
            f"(() => {{const e = document.querySelector({json.dumps(selector)});"
            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            "return JSON.stringify([r.x + r.width / 2, r.y + r.height / 2]);})()"))
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})

    def press(self, key: str) -> None:
        code, vk, text = KEYS[key]
        base = {"key": key, "code": code, "windowsVirtualKeyCode": vk}
        self.send("Input.dispatchKeyEvent", {"type": "keyDown", **base,
                                             **({"text": text} if text else {})})
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", **base})

    def type(self, text: str) -> None:
        self.send("Input.insertText", {"text": text})

    def visible(self) -> list[str]:
        return json.loads(self.eval(VISIBLE))

    def count(self) -> str:
        return self.eval("document.getElementById('count').textContent")

    def focused(self) -> str:
        return self.eval("document.activeElement.id || document.activeElement.dataset.value")


def button(facet: str, value: str) -> str:
    return f'button[data-facet="{facet}"][data-value="{value}"]'


@pytest.fixture(scope="module")
def audit(project, root):  # noqa: F811
    codebook = load_codebook(root / "config/codebook.yaml")
    page = project / "audit.html"
    texts = make_texts().assign(language="en")
    texts.loc[texts["text_id"] == "P3:considerations", "language"] = "de"
    write_table(texts, project / "texts_language.parquet")
    pipeline.run_audit(project / "texts_language.parquet", project / "codes.parquet",
                       root / "config/codebook.yaml", page, [project / "coders.csv"],
                       choices_path=project / "choices.parquet")
    codes = pd.read_parquet(project / "codes.parquet")
    human = read_sheet(project / "coders.csv", codebook)
    return page, codes, human


def test_audit_filters_by_clicking_and_keyboard(audit, tmp_path):
    page_path, codes, human = audit
    ids = sorted(make_texts()["text_id"])
    lexicon = codes[codes["origin"] == "lexicon"]
    given = human[human["value"] == 1]
    degrees = disagreement(human, codes)
    ranked = degrees[(degrees[["coders", "lexicon"]].fillna(0) > 0).any(axis=1)]
    ranked = ranked.assign(order=[ids.index(t) for t in ranked.index]).sort_values(
        ["score", "order"], ascending=[False, True])
    browser = Browser(tmp_path / "profile")
    try:
        page = Page(browser, page_path.resolve().as_uri())
        n_flag = int(degrees["flagged"].map(bool).sum())
        assert page.visible() == ids
        assert page.count() == f"Showing 6 of 6 answers ({n_flag} flagged)"

        page.click(button("code", "domain_similarity"))
        any_origin = sorted(set(codes.query("code == 'domain_similarity'")["text_id"]) | set(
            given.query("code == 'domain_similarity'")["text_id"]))
        assert page.visible() == any_origin
        page.click(button("origin", "lexicon"))
        by_lexicon = sorted(set(lexicon.query("code == 'domain_similarity'")["text_id"]))
        assert page.visible() == by_lexicon and by_lexicon != any_origin
        page.click("#reset")
        assert page.visible() == ids

        page.click(button("coder", "b"))
        page.click(button("code", "acquisition"))
        assert page.visible() == sorted(set(given.query("coder == 'b' and code == "
                                                        "'acquisition'")["text_id"]))
        assert page.count().startswith("Showing 1 of 6")
        page.click("#reset")

        page.click("#only")
        assert page.visible() == list(ranked.index)
        page.click(button("type", "coders"))
        split = [t for t in ranked.index if degrees.at[t, "coders"] > 0]
        assert page.visible() == split and split
        page.click("#reset")

        page.click(button("case", "xray"))
        assert page.visible() == ["P2:rationale:xray"]
        page.click(button("case", "xray"))
        page.click(button("chosen", "srcB"))  # P1 (xray) and P2 chose srcB
        assert page.visible() == ["P1:considerations", "P1:meaning_of_similar",
                                  "P2:rationale:xray"]
        page.click("#reset")

        page.click(button("language", "de"))
        assert page.visible() == ["P3:considerations"]
        page.click("#reset")

        page.click("#search")
        page.type("DOMAIN")
        texts = make_texts().set_index("text_id")["text"]
        assert page.visible() == sorted(t for t in ids if "domain" in texts[t].lower())
        page.click("#reset")

        # keyboard only: "/" focuses the search field, Tab reaches the toggle, Space presses it
        page.click("h1")
        page.press("/")
        assert page.focused() == "search"
        page.press("Tab")
        assert page.focused() == "only"
        page.press(" ")
        assert page.visible() == list(ranked.index)
        page.press("Tab")
        assert page.focused() == "reset"
        page.press("Enter")
        assert page.visible() == ids
    finally:
        browser.close()
    errors = [e for e in browser.events if e["method"] == "Runtime.exceptionThrown"
              or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert not errors, errors


def test_audit_page_loads_nothing_from_elsewhere(audit):
    page = audit[0].read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(?!data:|#)', page)
    assert "http://" not in page and "https://" not in page and "<link" not in page


def test_disagreement_flags_only_substantial_splits():
    sheet = pd.DataFrame(
        [("t1", "a", "x", 1), ("t1", "a", "y", 1), ("t1", "a", "z", 1), ("t1", "b", "x", 1),
         ("t1", "b", "y", 1), ("t1", "b", "z", 0),  # one of three codes split: 1 - 2/3
         ("t2", "a", "x", 1), ("t2", "b", "y", 1),  # nothing shared: flagged
         ("t3", "a", "x", 0), ("t3", "b", "x", 0),  # both reviewed, no code: agreement
         ("t4", "a", "x", 1)],  # one coder: no coder disagreement
        columns=["text_id", "coder", "code", "value"])
    codes = pd.DataFrame({"text_id": ["t1", "t1", "t1", "t3", "t4"],
                          "code": ["x", "y", "z", "x", "x"],
                          "origin": ["lexicon", "lexicon", "lexicon", "lexicon", "topic"]})
    d = disagreement(sheet, codes)
    assert d.loc["t1", "coders"] == pytest.approx(1 / 3)
    assert d.loc["t1", "split"] == ["z"] and d.loc["t1", "lexicon"] == 0  # z left out: split
    assert d.loc["t2", "coders"] == 1 and d.loc["t2", "flagged"] == ["coders"]
    assert d.loc["t3", "coders"] == 0 and d.loc["t3", "lexicon"] == 1  # lexicon vs agreed none
    assert pd.isna(d.loc["t4", "coders"]) and d.loc["t4", "lexicon"] == 1  # missed x
    assert "topic" not in d.columns
    assert d.loc["t1", "flagged"] == [] and d.loc["t2", "score"] > d.loc["t1", "score"]
