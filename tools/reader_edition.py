"""The reader edition: the chapters as plain notebooks, for Colab, Binder and Jupyter.

    python tools/reader_edition.py                 # -> _build/reader/book/*.ipynb
    python tools/reader_edition.py --out DIR       # -> DIR/book/*.ipynb

The chapters are written for the website (MyST markdown, read by Jupyter Book). Colab and a
plain Jupyter do not render MyST: a glued number would show as ``{glue:text}`acc:.1%```, an
exercise as a raw directive. This tool renders each chapter's markdown into plain Markdown,
the way d2l publishes converted notebooks for Colab:

- glued values are written into the text, formatted as the website formats them;
- ``{glue:figure}`` becomes the figure's caption, under the code cell that draws the figure
  (the notebooks show every figure there; the website hides that output and shows the glued
  copy with its caption instead);
- exercises become headed sections; solutions and dropdown admonitions (the answers of the
  "Check yourself" sections) become collapsible ``<details>``; other admonitions, quotes;
- ``{doc}``, ``{ref}`` and ``{numref}`` become links to the website;
- cells hidden on the website (``remove-cell``: glue calls and claim checks) are dropped, and so
  are the outputs of cells whose output the website folds away (``hide-output``: the install
  cell, the "predict, then run" cells) and of checks run on a solution.

Code cells are kept as they are, the install cell included. The student edition
(tools/student_edition.py) uses the same renderer without solutions and answers.
"""

import argparse
import ast
import copy
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
GLUE_PREFIX = "application/papermill.record/"

OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\{(?P<name>[\w:-]+)\}[ \t]*"
                  r"(?P<arg>.*?)[ \t]*$")
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
ROLE = re.compile(r"\{(?P<name>glue:text|glue:|glue|doc|ref|numref)\}`(?P<body>[^`]*)`")
TITLED = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
MYST_LEFT = re.compile(r"\{[\w:-]+\}`|^[ \t]*(`{3,}|~{3,})\{|^:[\w-]+:", re.M)


def site_url(config=None):
    """The website's address: ``html.baseurl`` of _config.yml, else the GitHub Pages address of
    the repository (https://OWNER.github.io/NAME/)."""
    config = config or yaml.safe_load((ROOT / "_config.yml").read_text())
    base = (config.get("html") or {}).get("baseurl")
    if base:
        return base.rstrip("/") + "/"
    owner, name = config["repository"]["url"].rstrip("/").split("/")[-2:]
    return f"https://{owner}.github.io/{name}/"


def toc_order(book, texts):
    """The pages of ``book`` in the order of the table of contents beside it (_toc.yml), else
    in the order of their names."""
    toc_path = book.parent / "_toc.yml"
    if not toc_path.exists():
        return sorted(texts)
    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", [])
                             for c in part["chapters"]]
    return [Path(f).stem for f in files if Path(f).stem in texts]


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def source(cell):
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


class Book:
    """What the links need: each page's title, and every exercise and figure label with its
    number. Like the website, figures and exercises are numbered through the whole book, in the
    order of _toc.yml ("Fig. 11", "Exercise 4")."""

    def __init__(self, book=BOOK, site=None):
        self.site = site or site_url()
        self.titles, self.labels, self.numbers = {}, {}, {}
        texts = {}
        for path in sorted(book.glob("*.ipynb")) + sorted(book.glob("*.md")):
            if path.suffix == ".ipynb":
                nb = nbformat.read(path, as_version=4)
                text = "\n".join(source(c) for c in nb.cells if c.cell_type == "markdown")
            else:
                text = path.read_text()
            heading = re.search(r"^# (.+)$", text, re.M)
            self.titles[path.stem] = heading.group(1).strip() if heading else path.stem
            texts[path.stem] = text
        counts = {"exercise": 0, "glue:figure": 0}
        for doc in toc_order(book, texts):
            for block in re.finditer(r"^[ \t]*`{3,}\{(exercise|glue:figure)\}[ \t]*(.*)\n"
                                     r"((?:[ \t]*:[\w-]+:.*\n)*)", texts[doc], re.M):
                kind, arg = block.group(1), block.group(2).strip()
                options = dict(re.findall(r":([\w-]+):[ \t]*(.*)", block.group(3)))
                counts[kind] += 1
                label = options.get("label" if kind == "exercise" else "name")
                number = (f"Exercise {counts[kind]}" if kind == "exercise"
                          else f"Fig. {counts[kind]}")
                if label:
                    self.labels[label] = (doc, arg if kind == "exercise" else number)
                    self.numbers[label] = number

    def page(self, doc):
        return f"{self.site}book/{doc}.html"


class Renderer:
    """Renders one chapter's MyST markdown into plain Markdown (see the module's docstring)."""

    def __init__(self, nb, doc, book, solutions=True, answers=True):
        self.nb, self.doc, self.book = nb, doc, book
        self.solutions, self.answers = solutions, answers
        self.glued = {}
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                name = out.get("metadata", {}).get("scrapbook", {}).get("name")
                if name and GLUE_PREFIX + "text/plain" in out.get("data", {}):
                    self.glued[name] = out["data"][GLUE_PREFIX + "text/plain"]

    # --- inline roles -------------------------------------------------------------------
    def glue_text(self, body):
        from myst_nb.core.variables import format_plain_text

        key, _, fmt = body.partition(":")
        if key not in self.glued:
            raise KeyError(f"{self.doc}: nothing glued as {key!r}")
        return format_plain_text(self.glued[key], fmt)

    def link(self, name, body):
        titled = TITLED.match(body)
        text, target = (titled.group("text"), titled.group("target")) if titled else (None, body)
        if name == "doc":
            doc = Path(target).stem
            if doc not in self.book.titles:
                raise KeyError(f"{self.doc}: no page {target!r}")
            return f"[{text or self.book.titles[doc]}]({self.book.page(doc)})"
        if target not in self.book.labels:
            raise KeyError(f"{self.doc}: no label {target!r}")
        doc, label_text = self.book.labels[target]
        if name == "numref" and text and "%s" in text:
            text = text.replace("%s", label_text.split()[-1])
        return f"[{text or label_text}]({self.book.page(doc)}#{target})"

    def roles(self, text):
        def replace(m):
            name, body = m.group("name"), m.group("body")
            if name.startswith("glue"):
                return self.glue_text(body)
            return self.link(name, body)

        return ROLE.sub(replace, text)

    # --- block directives ----------------------------------------------------------------
    def blocks(self, text):
        """Render the fenced directives of ``text`` (recursively), then the inline roles."""
        def render(name, arg, options, body):
            return self.directive(name, arg, options, self.blocks(body))

        try:
            return self.roles(map_directives(text, render))
        except ValueError as err:
            raise ValueError(f"{self.doc}: {err}") from None

    def directive(self, name, arg, options, body):
        if name == "glue:figure":
            anchor = f'<a id="{options["name"]}"></a>' if "name" in options else ""
            number = self.book.numbers.get(options.get("name"), "Figure")
            return f"{anchor}\n\n**{number}.** {body}".strip()
        if name == "exercise":
            anchor = f'<a id="{options["label"]}"></a>\n\n' if "label" in options else ""
            number = self.book.numbers.get(options.get("label"), "Exercise")
            return f"{anchor}### {number} ({arg})\n\n{body}"
        if name == "admonition" or name in ("note", "tip", "warning", "important"):
            title = arg or name.capitalize()
            if "dropdown" in options.get("class", ""):
                if is_answer(name, arg, options) and not self.answers:
                    return ""
                return f"<details>\n<summary>{title}</summary>\n\n{body}\n\n</details>"
            quoted = "\n".join(f"> {ln}" if ln else ">" for ln in body.split("\n"))
            return f"> **{title}**\n>\n{quoted}"
        raise ValueError(f"no plain form for the directive {{{name}}}")

    # --- cells ----------------------------------------------------------------------------
    def solution_cell(self, cells):
        """The cells of one solution, as one markdown cell of collapsible text."""
        return nbformat.v4.new_markdown_cell(
            f"<details>\n<summary>Solution</summary>\n\n{self.solution_text(cells)}\n\n"
            "</details>")

    def solution_text(self, cells):
        """The cells of one solution as Markdown: its text, its code and the code's output."""
        parts = []
        for cell in cells:
            text = source(cell)
            if cell.cell_type == "markdown":
                if "{solution-start}" in text or "{solution-end}" in text:
                    continue
                parts.append(self.blocks(text))
                continue
            parts.append(f"```python\n{text.strip()}\n```")
            for out in cell.get("outputs", []):
                shown = out.get("text") or out.get("data", {}).get("text/plain")
                if out.get("data", {}).get("image/png"):
                    raise ValueError(f"{self.doc}: a figure in a solution cannot be rendered")
                if shown and out.get("name") != "stderr":
                    parts.append("Output:\n\n```text\n" + "".join(shown).rstrip() + "\n```")
        return "\n\n".join(parts)

    def render(self):
        nb = copy.deepcopy(self.nb)
        cells, solution, solution_names = [], None, set()
        for cell in nb.cells:
            text = source(cell)
            if "solution" in tags(cell):
                solution = [] if solution is None else solution
                solution.append(cell)
                if cell.cell_type == "code":
                    solution_names |= bound_names(text)
                if "{solution-end}" in text:
                    if self.solutions:
                        cells.append(self.solution_cell(solution))
                    solution = None
                continue
            if "remove-cell" in tags(cell):
                continue
            if cell.cell_type == "markdown":
                cell.source = self.blocks(text)
                cell.pop("attachments", None)
                if not cell.source.strip():
                    continue
            elif cell.cell_type == "code":
                if "hide-output" in tags(cell) or loaded_names(text) & solution_names:
                    cell.outputs, cell.execution_count = [], None
                cell.outputs = [o for o in cell.outputs  # glued copies: the website's
                                if not o.get("metadata", {}).get("scrapbook")]
            cells.append(cell)
        if solution is not None:
            raise ValueError(f"{self.doc}: a solution without {{solution-end}}")
        nb.cells = cells
        nb.metadata.pop("jupytext", None)
        return nb


def map_directives(text, fn):
    """Replace each top-level fenced directive of ``text`` by ``fn(name, arg, options, body)``,
    re-indented as the directive was; where ``fn`` returns None, the directive stays as it is.
    A directive closes at the first line of at least as many of its fence characters."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        m = OPEN.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent, fence = m.group("indent"), m.group("fence")
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if j == len(lines):
            raise ValueError(f"unclosed directive {lines[i]!r}")
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip()
                for ln in lines[i + 1:j]]
        options = {}
        while body and OPTION.match(body[0]):
            option = OPTION.match(body.pop(0))
            options[option.group("key")] = option.group("value")
        new = fn(m.group("name"), m.group("arg"), options, "\n".join(body).strip("\n"))
        if new is None:
            out += lines[i:j + 1]
        else:
            out += [indent + ln if ln else "" for ln in new.split("\n")]
        i = j + 1
    return "\n".join(out)


def is_answer(name, arg, options):
    """A "Check yourself" answer: a dropdown admonition titled Answer."""
    return name == "admonition" and arg == "Answer" and "dropdown" in options.get("class", "")


def remove_answers(text):
    """The MyST ``text`` without its answers, everything else as it is (the student site)."""
    return map_directives(
        text, lambda name, arg, options, body: "" if is_answer(name, arg, options) else None)


def bound_names(code):
    """The names a cell binds in the notebook's namespace: assigned at its top level, and the
    functions and classes it defines (not the local variables of those functions)."""
    names, todo = set(), list(parse(code).body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if not isinstance(node, ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))
    return names


def loaded_names(code):
    return {n.id for n in ast.walk(parse(code)) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}


def parse(code):
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(code))


def myst_left(nb):
    """MyST syntax still in the markdown of a rendered notebook (should be none)."""
    return [m.group(0) for c in nb.cells if c.cell_type == "markdown"
            for m in MYST_LEFT.finditer(source(c))]


def render_book(out, solutions=True, answers=True, source_dir=BOOK):
    """Render every chapter of ``source_dir`` into the folder ``out``; return the paths."""
    book = Book(source_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(source_dir.glob("*.ipynb")):
        nb = Renderer(nbformat.read(path, as_version=4), path.stem, book, solutions,
                      answers).render()
        nbformat.write(nb, out / path.name)
        written.append(out / path.name)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "reader",
                        help="output folder; the notebooks go to OUT/book/ (default: %(default)s)")
    args = parser.parse_args(argv)
    written = render_book(args.out / "book")
    print(f"{len(written)} reader notebooks in {args.out / 'book'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
