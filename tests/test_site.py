"""The website as a reader sees it: every page of the built book opened in headless Chromium.

Run after ``jupyter-book build .``: each page of ``_toc.yml`` (and the landing page) is served
from ``_build/html`` on 127.0.0.1, opened once as a first-time visitor, checked (title, math,
figures and their alt text, launch and download buttons, internal links, console) and
photographed at desktop (1280 px) and phone (390 px) widths into ``_build/screenshots/``.

The test is offline: the MathJax that the pages load from cdn.jsdelivr.net is served from the
copy in the ``django-static-mathjax`` package, and any other request that leaves 127.0.0.1 is
refused and reported as a failure. Without a built site, Chromium or Playwright the tests are
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

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}

OWNER_REPO = urlsplit(REPO_URL).path.strip("/")
BRANCH = CONFIG["repository"]["branch"]
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
    facts: dict = field(default_factory=dict)  # gathered in the page by COLLECT
    console_errors: list = field(default_factory=list)
    external_requests: list = field(default_factory=list)
    failed_local: list = field(default_factory=list)
    phone_overflow_px: int = 0
    screenshots: list = field(default_factory=list)

    def __repr__(self):
        return f"Visit({self.url})"


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

    def _route(self, route, visit):
        url = route.request.url
        if url.startswith(self.base):
            return route.continue_()
        cdn = MATHJAX_CDN.match(url)
        if cdn and (self.mathjax / cdn[1]).is_file():
            return route.fulfill(path=self.mathjax / cdn[1])
        visit.external_requests.append(url)
        return route.abort()

    def open(self, path, visit):
        """A fresh context (empty storage, as a first visit) with the page loaded at `path`."""
        context = self.browser.new_context(viewport=dict(zip(("width", "height"),
                                                              WIDTHS["desktop"])))
        context.route("**/*", lambda route: self._route(route, visit))
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", lambda m: m.type == "error" and visit.console_errors.append(m.text))
        page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
        page.on("response", lambda r: r.url.startswith(self.base) and r.status >= 400
                and visit.failed_local.append(f"{r.status} {r.url}"))
        page.on("requestfailed", lambda r: r.url.startswith(self.base)
                and visit.failed_local.append(f"{r.failure} {r.url}"))
        page.goto(self.base + path, wait_until="load")
        return context, page

    def visit(self, name):
        """The page book/<name>.html, visited once; a visit that failed fails every test."""
        if name not in self.visits:
            try:
                self.visits[name] = self._visit(name)
            except Exception as error:
                self.visits[name] = error
                raise
        if isinstance(self.visits[name], Exception):
            pytest.fail(f"the visit of {name} failed: {self.visits[name]}", pytrace=False)
        return self.visits[name]

    def _visit(self, name):
        visit = Visit()
        context, page = self.open(f"book/{name}.html", visit)
        try:
            page.evaluate("async () => { await window.MathJax?.startup?.promise; }")
            page.wait_for_function("[...document.images].every(i => i.complete)")
            visit.url, visit.title = page.url, page.title()
            visit.facts = page.evaluate(COLLECT)
            SHOTS.mkdir(parents=True, exist_ok=True)
            for width_name, (width, height) in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(200)  # let the layout settle
                shot = SHOTS / f"{name}-{width_name}.png"
                page.screenshot(path=shot, full_page=True)
                visit.screenshots.append(shot)
            visit.phone_overflow_px = page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth")
        finally:
            context.close()
        return visit


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


@pytest.mark.parametrize("name", PAGES)
def test_no_console_errors_and_no_external_resources(site, name):
    visit = site.visit(name)
    assert not visit.external_requests, "the page needs resources from outside the site"
    errors = [m for m in visit.console_errors if not known_sphinx_bug(m)]
    assert not errors, "errors in the browser's console"


@pytest.mark.parametrize("name", PAGES)
def test_screenshots_and_no_sideways_scrolling_on_a_phone(site, name):
    visit = site.visit(name)
    assert all(shot.stat().st_size > 0 for shot in visit.screenshots)
    assert visit.phone_overflow_px <= 0, "the page is wider than a phone's screen"
