"""The book's exercises, read from the chapters: one marking of what a solution is, for the
website, the reader and student editions and the otter-grader assignments.

A chapter marks its solutions in one way only: the cells of a solution carry the cell tag
``solution``, from the ``{solution-start}`` cell to the ``{solution-end}`` cell (sphinx-exercise
renders them as a dropdown; the student edition removes them). An *implement it* exercise has
three code cells around its solution:

- the **stub**, right before ``{solution-start}``: each function of the solution, its ``def``
  line and its docstring, with the body ``...``;
- the **solution**, a code cell of the solution: the same functions, written out;
- the **check**, right after ``{solution-end}``: ``checks.check_NAME(my_function)``, one line
  per function (``print(checks.check_NAME(my_function))`` where there are several).

The stub is derived from the solution (``stub_of``); tests/test_otter_assignments.py fails when
a chapter's stub cell and its solution drift apart. Otter-grader's solution markers are derived
from the same cells (``with_markers``): ``# BEGIN SOLUTION`` after each docstring and
``# END SOLUTION`` after the body, which ``otter assign`` replaces by ``...``, giving the stub
again.

Points: an exercise is worth a point per 5 minutes of its estimated time ("(About 15
minutes.)" in its text: 3 points).
"""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
EXERCISE = re.compile(r"^[ \t]*(`{3,})\{exercise\}[ \t]*(?P<title>[^\n]*)\n"
                      r"(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)(?P<body>.*?)^[ \t]*\1[ \t]*$",
                      re.M | re.S)
CHECK = re.compile(r"^(?:print\()?checks\.(check_\w+)\((\w+)\)\)?$")
NOQA = re.compile(r"\s*#\s*noqa\b.*$")


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def source(cell):
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _functions(code):
    """The solution's top-level functions as (def lines, docstring end, body end), 0-based line
    numbers; ValueError if it holds anything else than functions and comments."""
    tree = ast.parse(code)
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            raise ValueError("a solution cell of an implement-it exercise holds functions only, "
                             f"found: {ast.unparse(node)[:60]!r}")
        first = node.body[0]
        if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            raise ValueError(f"{node.name}: give the function a docstring; the stub keeps it")
        if len(node.body) < 2:
            raise ValueError(f"{node.name}: the solution has no body after its docstring")
        start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        found.append((start, first.end_lineno, node.end_lineno, node.col_offset))
    return found


def stub_of(code):
    """The stub of a solution: each function with its ``def`` line and docstring, body ``...``
    (a ``# noqa`` comment on a ``def`` line dropped)."""
    lines = code.strip("\n").split("\n")
    parts = []
    for start, doc_end, _, indent in _functions(code):
        head = lines[start:doc_end]
        head = [NOQA.sub("", ln) if ln.lstrip().startswith("def ") else ln for ln in head]
        parts.append("\n".join(head + [" " * (indent + 4) + "..."]))
    return "\n\n\n".join(parts)


def with_markers(code):
    """The solution with otter-grader's markers around each function's body (``# noqa``
    comments on ``def`` lines dropped): ``otter assign`` turns it into ``stub_of(code)``."""
    lines = code.strip("\n").split("\n")
    parts = []
    for start, doc_end, end, indent in _functions(code):
        pad = " " * (indent + 4)
        head = [NOQA.sub("", ln) if ln.lstrip().startswith("def ") else ln
                for ln in lines[start:doc_end]]
        parts.append("\n".join(head + [pad + "# BEGIN SOLUTION"] + lines[doc_end:end]
                               + [pad + "# END SOLUTION"]))
    return "\n\n\n".join(parts)


@dataclass
class Exercise:
    """One exercise of a chapter: where its cells are, and what it asks."""

    chapter: str
    label: str
    title: str
    body: str  # the directive's text, MyST
    cell: int  # index of the markdown cell holding the directive
    solution: list = field(default_factory=list)  # indices of the solution's cells
    stub: int = None  # implement it: the stub's cell
    check: int = None  # implement it: the check's cell
    checks: list = field(default_factory=list)  # implement it: [("check_softmax", "my_softmax")]

    @property
    def kind(self):
        if self.check is not None:
            return "implement it"
        if self.title.startswith("Predict"):
            return "predict, then run"
        if "plot" in self.title or self.title.startswith("Read"):
            return "explain the plot"
        return "explain"

    @property
    def minutes(self):
        found = re.search(r"\(About\s+(\d+)\s+minutes\.\)", self.body)
        if not found:
            raise ValueError(f"{self.label}: say how long it takes, (About N minutes.)")
        return int(found.group(1))

    @property
    def parts(self):
        """The numbered questions of the exercise (at least one)."""
        return max(1, len(re.findall(r"^\d+\. ", self.body, re.M)))

    @property
    def points(self):
        """A point per 5 minutes of the estimated time."""
        return max(1, self.minutes // 5)

    @property
    def name(self):
        """The otter question's name: the label with underscores."""
        return self.label.replace("-", "_")


def exercises(nb, chapter):
    """The exercises of a chapter notebook, in order."""
    found, cells = [], nb.cells
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown" or "solution" in tags(cell):
            continue
        for m in EXERCISE.finditer(source(cell)):
            options = dict(re.findall(r":([\w-]+):[ \t]*(.*)", m.group("options")))
            found.append(Exercise(chapter, options["label"], m.group("title").strip(),
                                  m.group("body"), i))
    for exercise in found:
        start = next((j for j in range(exercise.cell + 1, len(cells))
                      if "solution" in tags(cells[j])
                      and f"{{solution-start}} {exercise.label}" in source(cells[j])), None)
        if start is None:
            continue
        end = next(j for j in range(start, len(cells)) if "{solution-end}" in source(cells[j]))
        exercise.solution = list(range(start, end + 1))
        before, after = cells[start - 1], cells[end + 1] if end + 1 < len(cells) else None
        lines = source(after).strip().split("\n") if after and after.cell_type == "code" else []
        calls = [CHECK.match(line.strip()) for line in lines]
        if calls and all(calls) and before.cell_type == "code" and "solution" not in tags(before):
            exercise.stub, exercise.check = start - 1, end + 1
            exercise.checks = [call.groups() for call in calls]
    return found


def solution_code(nb, exercise):
    """The code cell of an implement-it exercise's solution."""
    code = [source(nb.cells[j]) for j in exercise.solution if nb.cells[j].cell_type == "code"]
    if len(code) != 1:
        raise ValueError(f"{exercise.label}: one code cell in the solution, found {len(code)}")
    return code[0]


def book_exercises(book=BOOK):
    """Every exercise of the book, chapter by chapter: {chapter stem: [Exercise, ...]}."""
    out = {}
    for path in sorted(book.glob("*.ipynb")):
        found = exercises(nbformat.read(path, as_version=4), path.stem)
        if found:
            out[path.stem] = found
    return out
