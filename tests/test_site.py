"""The website as a reader sees it: every page of the built book opened in headless Chromium.

Run after ``jupyter-book build .``: each page of ``_toc.yml`` (and the landing page) is served
from ``_build/html`` on 127.0.0.1 and opened once as a first-time visitor whose system prefers a
light theme; then the system's setting turns dark, as many do at dusk, and the page follows.
In each mode the page is checked (title, math, figures and their alt text, launch and download
buttons, internal links, console, the companion's version in the footer, the theme, figures on
a white background), audited for accessibility by axe-core (no serious or critical violation;
every finding is written to ``_build/screenshots/axe.json``) and photographed at desktop
(1280 px) and phone (390 px) widths into ``_build/screenshots/`` (``NAME-WIDTH.png`` light,
``NAME-WIDTH-dark.png`` dark). A first visit in each mode is checked on the landing page.

The test is offline: the MathJax that the pages load from cdn.jsdelivr.net is served from the
copy in the ``django-static-mathjax`` package, axe-core is the copy bundled by the
``axe-playwright-python`` package, and any other request that leaves 127.0.0.1 is refused and
reported as a failure. Without a built site, Chromium or Playwright the tests are
skipped, except under CI (``CI=true``), where that is a failure.
"""

import functools
import html.parser
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from test_book import CONFIG, REPO_URL, toc_files
from test_publish import companion_version

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
MODES = ("light", "dark")  # the reader's system setting (prefers-color-scheme)
# axe-core's impact levels that fail the test (the others, moderate and minor, are reported).
FAILING_IMPACTS = ("serious", "critical")

OWNER_REPO = urlsplit(REPO_URL).path.strip("/")
# The launch buttons open the reader edition, on the branch the deploy workflow writes.
BRANCH = CONFIG["sphinx"]["config"]["html_theme_options"]["repository_branch"]
PAGES = [f.removeprefix("book/") for f in toc_files()]
MATHJAX_CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/mathjax@3[^/]*/es5/([^?#]+)")


def mathjax_dir():
    """MathJax 3's es5 folder as shipped by django-static-mathjax, or None."""
    try:
        dist = importlib.metadata.distribution("django-static-mathjax")
    except importlib.metadata.PackageNotFoundError:
        return None
    folder = Path(dist.locate_file("mathjax/static/mathjax/es5"))
    return folder if (folder / "tex-mml-chtml.js").is_file() else None


def missing():
    """Why the browser test cannot run here, or None."""
    if not (SITE / "index.html").is_file():
        return f"no built site in {SITE}: run `jupyter-book build .` first"
    if not Path(CHROMIUM).is_file():
        return "Chromium is missing (Debian: apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is missing (pip install -r requirements.txt)"
    if mathjax_dir() is None:
        return "no local MathJax (pip install -r requirements.txt: django-static-mathjax)"
    if importlib.util.find_spec("axe_playwright_python") is None:
        return "no axe-core (pip install -r requirements.txt: axe-playwright-python)"
    return None


def source(name):
    """The page's source file in book/: a notebook or a markdown file."""
    notebook = ROOT / "book" / f"{name}.ipynb"
    return notebook if notebook.exists() else ROOT / "book" / f"{name}.md"


@functools.cache
def anchors(path):
    """The ids (and names) that a built HTML file defines, for links with a #fragment."""
    found = set()

    class Parser(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.update(v for k, v in attrs if k in ("id", "name") and v)

    Parser().feed(path.read_text(encoding="utf-8"))
    return found


@dataclass(repr=False)
class Visit:
    """What one page showed a first-time visitor."""

    url: str = ""
    title: str = ""
    mode: str = "light"  # the reader's preferred color scheme
    theme: str = ""  # the theme the page chose: <html data-theme>
    facts: dict = field(default_factory=dict)  # gathered in the page by COLLECT
    console_errors: list = field(default_factory=list)
    external_requests: list = field(default_factory=list)
    failed_local: list = field(default_factory=list)
    phone_overflow_px: int = 0
    screenshots: list = field(default_factory=list)
    axe_violations: list = field(default_factory=list)  # axe-core's, in short form

    def __repr__(self):
        return f"Visit({self.url}, {self.mode})"


# Runs in the page once MathJax is done: everything the tests check, as plain data.
COLLECT = r"""() => {
  const article = document.querySelector("article.bd-article") || document.body;
  const outsideCode = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement.closest("pre, code, mjx-container, script, style")) {
      outsideCode.push(node.textContent);
    }
  }
  const math = [...article.querySelectorAll(".math")];
  return {
    h1: (article.querySelector("h1")?.innerText || "").replace(/[\u200b\s]*#$/, "").trim(),
    prose: outsideCode.join(" "),
    mathNodes: math.length,
    mathUnrendered: math.filter(m => !m.querySelector("mjx-container"))
                        .map(m => m.textContent.slice(0, 80)),
    mathContainers: article.querySelectorAll("mjx-container").length,
    mathErrors: [...article.querySelectorAll("mjx-merror")].map(e => e.textContent),
    images: [...document.images].map(i => ({
      src: i.getAttribute("src"),
      loaded: i.complete && i.naturalWidth > 0,
      alt: (i.getAttribute("alt") || "").trim(),
      inArticle: article.contains(i),
      caption: (i.closest("figure")?.querySelector("figcaption")?.innerText || "").trim(),
    })),
    figureBackgrounds: [...article.querySelectorAll("img")].map(i => {
      const style = getComputedStyle(i);
      return {src: i.getAttribute("src"), background: style.backgroundColor,
              filter: style.filter};
    }),
    footerVersion: document.querySelector(".companion-version .version")?.innerText || "",
    launch: [...document.querySelectorAll(".dropdown-launch-buttons a")].map(a => a.href),
    download: [...document.querySelectorAll(".btn-download-source-button")]
                .map(a => a.href),
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    articleLinks: [...article.querySelectorAll("a[href]")].map(a => a.href),
  };
}"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Site:
    """The built site served on 127.0.0.1 and a Chromium to visit it, one visit a page."""

    def __init__(self, browser, base):
        self.browser, self.base, self.mathjax = browser, base, mathjax_dir()
        self.visits = {}
        self.current = None  # the Visit that the page's events are recorded in

    def _route(self, route, visit):
        url = route.request.url
        if url.startswith(self.base):
            return route.continue_()
        cdn = MATHJAX_CDN.match(url)
        if cdn and (self.mathjax / cdn[1]).is_file():
            return route.fulfill(path=self.mathjax / cdn[1])
        visit.external_requests.append(url)
        return route.abort()

    def open(self, path, visit, mode="light"):
        """A fresh context (empty storage, as a first visit) with the page loaded at `path`,
        for a reader whose system prefers the light or the dark `mode`."""
        context = self.browser.new_context(viewport=dict(zip(("width", "height"),
                                                              WIDTHS["desktop"])),
                                           color_scheme=mode)
        self.current = visit
        context.route("**/*", lambda route: self._route(route, self.current))
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", lambda m: m.type == "error"
                and self.current.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.current.console_errors.append(f"uncaught: {e}"))
        page.on("response", lambda r: r.url.startswith(self.base) and r.status >= 400
                and self.current.failed_local.append(f"{r.status} {r.url}"))
        page.on("requestfailed", lambda r: r.url.startswith(self.base)
                and self.current.failed_local.append(f"{r.failure} {r.url}"))
        page.goto(self.base + path, wait_until="load")
        return context, page

    def visit(self, name, mode="light"):
        """The page book/<name>.html as seen in `mode`; the page is visited once for both
        modes, and a visit that failed fails every test."""
        if name not in self.visits:
            try:
                self.visits[name] = self._visit(name)
            except Exception as error:
                self.visits[name] = error
                raise
        if isinstance(self.visits[name], Exception):
            pytest.fail(f"the visit of {name} failed: {self.visits[name]}", pytrace=False)
        return self.visits[name][mode]

    def _visit(self, name):
        visits = {mode: Visit(mode=mode) for mode in MODES}
        context, page = self.open(f"book/{name}.html", visits[MODES[0]], MODES[0])
        try:
            page.evaluate("async () => { await window.MathJax?.startup?.promise; }")
            page.wait_for_function("[...document.images].every(i => i.complete)")
            for mode, visit in visits.items():
                if mode != MODES[0]:
                    self.current = visit
                    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["desktop"])))
                    page.emulate_media(color_scheme=mode)
                    follows = f"document.documentElement.dataset.theme === '{mode}'"
                    try:
                        page.wait_for_function(follows, timeout=5_000)
                    except Exception:
                        pass  # the page did not follow: test_each_page_follows... says so
                    # the theme's colours change with CSS transitions: audit the new colours,
                    # not the ones half-way (axe once measured the search button mid-fade)
                    page.wait_for_function(
                        "document.getAnimations().every(a => a.playState !== 'running')")
                self._look(name, page, visit)
        finally:
            context.close()
        return visits

    def _look(self, name, page, visit):
        """Check, audit and photograph the page as it is now, into `visit`."""
        visit.url, visit.title = page.url, page.title()
        visit.theme = page.evaluate("document.documentElement.dataset.theme")
        visit.facts = page.evaluate(COLLECT)
        visit.axe_violations = audit(page)
        record_audit(name, visit.mode, visit.axe_violations)
        SHOTS.mkdir(parents=True, exist_ok=True)
        suffix = "" if visit.mode == "light" else f"-{visit.mode}"
        for width_name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(200)  # let the layout settle
            shot = SHOTS / f"{name}-{width_name}{suffix}.png"
            page.screenshot(path=shot, full_page=True)
            visit.screenshots.append(shot)
        visit.phone_overflow_px = page.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth")


# Code blocks hold about a thousand highlighted tokens a chapter, and axe's color-contrast rule
# spends most of its time on them, though they share a few colours. So that rule checks the
# page without its code blocks, plus one element of each (colour, font, background) found in
# them; every other rule checks the whole page.
MARK_CODE_SAMPLES = r"""() => {
  const key = e => {
    const s = getComputedStyle(e);
    return [s.color, s.fontSize, s.fontWeight,
            getComputedStyle(e.closest("pre")).backgroundColor].join("|");
  };
  document.querySelectorAll("[data-axe-sample]")
    .forEach(e => e.removeAttribute("data-axe-sample"));
  const chosen = new Map();
  for (const pre of document.querySelectorAll("div.highlight pre")) {
    const k = key(pre), size = pre.getElementsByTagName("*").length;
    if (!chosen.has(k) || chosen.get(k).size > size) chosen.set(k, {element: pre, size});
  }
  for (const span of document.querySelectorAll("div.highlight pre span")) {
    const k = key(span);
    if (!chosen.has(k)) chosen.set(k, {element: span, size: 0});
  }
  chosen.forEach(({element}) => element.setAttribute("data-axe-sample", ""));
  return chosen.size;
}"""
AXE_RUNS = [
    ("document", {"rules": {"color-contrast": {"enabled": False}}}),
    ({"include": [["html"], ["[data-axe-sample]"]], "exclude": [["div.highlight"]]},
     {"runOnly": ["color-contrast"]}),
]


def audit(page):
    """axe-core's violations on the page as loaded, in short form: rule, impact, what it
    means, and the elements (CSS selector and start of their HTML)."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    page.evaluate(MARK_CODE_SAMPLES)
    violations = []
    for context, options in AXE_RUNS:
        # preload: false, or axe fetches the stylesheets' @imports from wrong addresses
        options = {**options, "resultTypes": ["violations"], "preload": False}
        context = page.evaluate_handle("document") if context == "document" else context
        violations += page.evaluate("([context, options]) => axe.run(context, options)",
                                    [context, options])["violations"]
    return [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "elements": [(" ".join(map(str, n["target"])), n["html"][:160])
                          for n in v["nodes"]]}
            for v in violations]


AUDITS = {}


def record_audit(name, mode, violations):
    """Every finding of axe, moderate and minor ones included, in _build/screenshots/axe.json."""
    AUDITS[f"{name} ({mode})"] = violations
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "axe.json").write_text(json.dumps(AUDITS, indent=1))


@pytest.fixture(scope="module")
def site():
    reason = missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    handler = functools.partial(Quiet, directory=str(SITE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield Site(browser, f"http://127.0.0.1:{server.server_port}/")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def expected_title(name):
    """The first-level heading of the page's source, as plain text."""
    path = source(name)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "".join(c for cell in json.loads(text)["cells"]
                       if cell["cell_type"] == "markdown" for c in cell["source"])
    heading = re.search(r"^# (.+)$", text, re.M)[1]
    return re.sub(r"[*_`]", "", heading).strip()


def test_landing_page_opens_the_introduction_and_links_to_the_repository(site):
    visit = Visit()
    context, page = site.open("index.html", visit)
    try:
        page.wait_for_url("**/book/intro.html")
        links = page.eval_on_selector_all("article.bd-article a[href]",
                                          "links => links.map(a => a.href)")
    finally:
        context.close()
    assert any(link.rstrip("/") == REPO_URL for link in links), "no link to the repository"
    assert not visit.external_requests, visit.external_requests


@pytest.mark.parametrize("name", PAGES)
def test_page_title_is_the_chapter_heading(site, name):
    visit = site.visit(name)
    heading = expected_title(name)
    assert visit.facts["h1"] == heading
    assert visit.title == f"{heading} — {CONFIG['title']}"


@pytest.mark.parametrize("name", PAGES)
def test_math_is_rendered_by_mathjax(site, name):
    facts = site.visit(name).facts
    assert not facts["mathUnrendered"], "math left unrendered"
    assert facts["mathContainers"] >= facts["mathNodes"]
    assert not facts["mathErrors"], "TeX errors"
    raw = re.findall(r"\$\$|\\\(|\\\[|\\begin\{|\$[^$\s][^$]*\$", facts["prose"])
    assert not raw, f"raw TeX in the text: {raw}"
    if "$" in source(name).read_text(encoding="utf-8"):
        assert facts["mathContainers"] > 0, "the source has math, the page shows none"


def is_file_name(text):
    return bool(re.fullmatch(r"\S+\.(png|jpe?g|svg|gif|webp)", text, re.I))


@pytest.mark.parametrize("name", PAGES)
def test_every_image_loads_and_every_figure_is_described(site, name):
    images = site.visit(name).facts["images"]
    assert not [i["src"] for i in images if not i["loaded"]], "images that did not load"
    # Alt text or a caption; myst-nb's default alt for a bare output is the file's path.
    undescribed = [i["src"] for i in images if i["inArticle"] and not i["caption"]
                   and (not i["alt"] or is_file_name(i["alt"]))]
    assert not undescribed, "images without alt text or a caption"


@pytest.mark.parametrize("name", PAGES)
def test_launch_and_download_buttons(site, name):
    facts = site.visit(name).facts
    if source(name).suffix != ".ipynb":
        assert not facts["launch"], "only notebooks can be launched"
        return
    notebook = f"book/{name}.ipynb"
    colab = f"https://colab.research.google.com/github/{OWNER_REPO}/blob/{BRANCH}/{notebook}"
    binder = f"https://mybinder.org/v2/gh/{OWNER_REPO}/{BRANCH}?urlpath=lab/tree/{notebook}"
    assert colab in facts["launch"]
    assert binder in facts["launch"]
    assert [urlsplit(d).path.removeprefix("/") for d in facts["download"]] == [
        f"_sources/{notebook}"]


@pytest.mark.parametrize("name", PAGES)
def test_internal_links_resolve(site, name):
    visit = site.visit(name)
    origin = urlsplit(visit.url).netloc
    broken = []
    for href in visit.facts["links"]:
        url = urlsplit(href)
        if url.scheme not in ("http", "https") or url.netloc != origin:
            continue
        path = SITE / unquote(url.path).removeprefix("/")
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            broken.append(href)
        elif url.fragment and path.suffix == ".html" and unquote(url.fragment) not in anchors(
                path):
            broken.append(href)
    assert not broken, "internal links to missing files or anchors"
    assert not visit.failed_local, "resources of the site that failed to load"


def known_sphinx_bug(message):
    """Sphinx 7.4 writes the inline script of sphinx-thebe twice in every page (its
    ``add_js_file(None, body=...)`` is registered as both ``None`` and ``""``), so the second
    copy redeclares the constants of the first: harmless, and fixed in Sphinx 8.2
    (sphinx-doc/sphinx#13402), which Jupyter Book 1 (``sphinx~=7.0``) cannot use."""
    import sphinx

    return (sphinx.version_info < (8, 2)
            and message == "uncaught: Identifier 'THEBE_JS_URL' has already been declared")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", PAGES)
def test_no_console_errors_and_no_external_resources(site, name, mode):
    visit = site.visit(name, mode)
    assert not visit.external_requests, "the page needs resources from outside the site"
    errors = [m for m in visit.console_errors if not known_sphinx_bug(m)]
    assert not errors, "errors in the browser's console"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", PAGES)
def test_screenshots_and_no_sideways_scrolling_on_a_phone(site, name, mode):
    visit = site.visit(name, mode)
    assert len(visit.screenshots) == len(WIDTHS)
    assert all(shot.stat().st_size > 0 for shot in visit.screenshots)
    assert visit.phone_overflow_px <= 0, "the page is wider than a phone's screen"


# --- Accessibility, dark mode, version ---------------------------------------------------------


def failing(violations):
    return [v for v in violations if v["impact"] in FAILING_IMPACTS]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_serious_or_critical_violation(site, name, mode):
    found = failing(site.visit(name, mode).axe_violations)
    assert not found, "accessibility violations (axe-core):\n" + json.dumps(found, indent=1)


BAD_PAGE = """<!doctype html><html lang="en"><head><title>Bad</title></head><body><main>
<h1>A page with the usual mistakes</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<button><svg width="10" height="10"></svg></button>
<p style="color: #aaa; background: #fff">Light grey text on white.</p>
<div class="highlight"><pre style="color: #000; background: #fff">x = 1<span>  # fine</span>
<span>y = 2</span><span style="color: #ccc">  # pale comment</span></pre></div>
</main></body></html>"""


def test_the_audit_catches_missing_alt_text_unnamed_buttons_and_low_contrast(site):
    """The audit is real: on a page with the usual mistakes it fails, code blocks included."""
    context = site.browser.new_context()
    try:
        page = context.new_page()
        page.set_content(BAD_PAGE)
        found = {v["rule"]: v for v in audit(page)}
    finally:
        context.close()
    assert found["image-alt"]["impact"] == "critical"
    assert found["button-name"]["impact"] == "critical"
    assert found["color-contrast"]["impact"] == "serious"
    low = [html for _, html in found["color-contrast"]["elements"]]
    assert len(low) == 2 and "Light grey" in low[0] and "pale comment" in low[1]


@pytest.mark.parametrize("mode", MODES)
def test_a_first_visit_gets_the_theme_the_system_prefers(site, mode):
    visit = Visit()
    context, page = site.open("index.html", visit, mode)
    try:
        page.wait_for_url("**/book/intro.html")
        theme = page.evaluate("document.documentElement.dataset.theme")
    finally:
        context.close()
    assert theme == mode
    assert not [m for m in visit.console_errors if not known_sphinx_bug(m)]


@pytest.mark.parametrize("name", PAGES)
def test_each_page_follows_the_systems_theme(site, name):
    assert [site.visit(name, mode).theme for mode in MODES] == list(MODES)


WHITE = "rgb(255, 255, 255)"


@pytest.mark.parametrize("name", PAGES)
def test_figures_keep_a_white_background_in_dark_mode(site, name):
    """The figures are drawn for a white page: in dark mode each image of the article keeps a
    white background, undimmed (the theme's default would grey it with a filter)."""
    images = site.visit(name, "dark").facts["figureBackgrounds"]
    wrong = [i for i in images if i["background"] != WHITE or i["filter"] != "none"]
    assert not wrong, "figures that are not on white in dark mode"


@pytest.mark.parametrize("name", PAGES)
def test_footer_shows_the_companion_version(site, name):
    assert site.visit(name).facts["footerVersion"] == companion_version()


# --- Animations --------------------------------------------------------------------------------

# The chapters' animations (companion.glue.animation_html): at least these many on each page.
ANIMATIONS = {"06_updates": 1, "07_training": 2}
FRAME_OF = ("el => [el.querySelector('img').src, "
            "Number(el.querySelector('input.anim-slider').value)]")


def test_the_animations_are_on_their_pages():
    if missing():
        pytest.skip(missing())
    for name, count in ANIMATIONS.items():
        page = (SITE / "book" / f"{name}.html").read_text()
        assert page.count('class="anim-slider"') >= count, f"{name}: an animation is missing"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ANIMATIONS)
def test_each_animation_steps_and_plays_offline(site, name, width):
    """A reader steps one frame (the picture and the slider move), goes back to the first,
    plays the animation a few frames, pauses it and jumps to its last frame; it fits the screen,
    and nothing is loaded from outside the page."""
    visit = Visit()
    context, page = site.open(f"book/{name}.html", visit)
    try:
        page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width])))
        players = page.locator("div.animation")
        assert players.count() >= ANIMATIONS[name]
        for i in range(players.count()):
            player = players.nth(i)
            player.scroll_into_view_if_needed()
            alt = player.locator("img").get_attribute("alt")
            assert len(alt) > 100, "the animation's image says what it shows (alt text)"
            caption = player.evaluate(
                "el => el.closest('figure')?.querySelector('figcaption')?.innerText || ''")
            assert caption.startswith("Fig."), "each animation is a numbered, captioned figure"
            slider = player.locator("input.anim-slider")
            last = int(slider.get_attribute("max"))
            assert last >= 5, "an animation of a few frames at least"
            player.get_by_role("button", name="First").click()
            src0, k0 = player.evaluate(FRAME_OF)
            assert k0 == 0
            player.get_by_role("button", name="Next").click()
            src1, k1 = player.evaluate(FRAME_OF)
            assert (k1, src1 != src0) == (1, True), "Next shows the next frame"
            player.get_by_role("button", name="Play").click()
            page.wait_for_function(
                "el => Number(el.querySelector('input.anim-slider').value) >= 3",
                arg=player.element_handle(), timeout=30_000)
            player.get_by_role("button", name="Pause").click()
            src_played, k_played = player.evaluate(FRAME_OF)
            assert k_played >= 3 and src_played not in (src0, src1), (
                "Play moves on by itself, frame after frame")
            player.get_by_role("button", name="Last").click()
            src_end, k_end = player.evaluate(FRAME_OF)
            assert k_end == last and src_end not in (src0, src1), "Last shows the last frame"
            box = player.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTHS[width][0] + 0.5, (
                "the player fits the screen")
            SHOTS.mkdir(parents=True, exist_ok=True)
            player.screenshot(path=SHOTS / f"{name}-animation{i + 1}-{width}.png")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, "the page is wider than the screen"
    finally:
        context.close()
    assert not visit.external_requests, "the animations need resources from outside the site"
    assert not [m for m in visit.console_errors if not known_sphinx_bug(m)]
