"""Otter-grader assignments from the chapters: build them, grade submissions, plan a course.

    python tools/otter_assignments.py build                  # every chapter with exercises
    python tools/otter_assignments.py build book/05_backprop.ipynb --out DIR
    python tools/otter_assignments.py grade _build/otter/05_backprop SUBMISSION.ipynb ...
    python tools/otter_assignments.py plan [--write]         # the course plan, book/instructors.md

``build`` writes, for each chapter, ``OUT/CHAPTER/CHAPTER.ipynb``, the otter master notebook
(default OUT: ``_build/otter``), and runs ``otter assign`` on it (otter-grader 7), which makes
``OUT/CHAPTER/dist/student/CHAPTER.ipynb`` to hand out and ``OUT/CHAPTER/dist/autograder/``, the
solution notebook and the autograder zip (for Gradescope, and for ``otter run``). The master
notebook is the chapter as the student edition renders it (tools/reader_edition.py: plain
Markdown, glued values written in, no answers), with one otter question per exercise, as
tools/exercises.py reads it from the chapter:

- *implement it*: autograded. The solution is the chapter's solution cell with otter's
  ``# BEGIN SOLUTION`` / ``# END SOLUTION`` around each function's body, which ``otter assign``
  replaces by ``...``: the student gets the chapter's stub. A public test calls the chapter's
  check from ``companion.checks`` and asserts on its feedback (its message is the test's
  result); a hidden test runs the same check on further cases (``seed=1`` and ``2``);
- *predict, then run* and *explain*: graded by hand, with the chapter's solution and a short
  rubric in the solution notebook.

Grading runs the set-up cells (the install cell and the imports) and the exercises; the other
cells of the chapter carry otter's tag ``otter_ignore``, so that grading a class does not re-run
every chapter's training.

``grade`` grades submissions with otter's non-containerized runner (``otter run``; ``otter
grade`` needs Docker), several submissions per process and ``--jobs`` processes at once; a
submission still running after ``--timeout`` seconds (an endless loop at the top level) is
stopped and scored 0, and one that raises is scored like any other. It prints each submission's
score and writes the scores and every failed test's message to a CSV file.
"""

import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell

sys.path.insert(0, str(Path(__file__).resolve().parent))
import exercises as exercise_cells  # noqa: E402
import reader_edition  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
OUT = ROOT / "_build" / "otter"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
IGNORE = "otter_ignore"  # otter skips these cells when it grades
WORDS_PER_MINUTE = 150  # reading speed assumed for technical prose with math
WEEKS = {1: ["intro", "01_data", "02_initialization", "03_forward"],
         2: ["04_loss", "05_backprop", "06_updates"],
         3: ["07_training", "08_generalization", "09_pytorch", "10_fair_comparison"]}


def companion_requirement():
    """The pip line that installs the companion, as the chapters' install cell does."""
    return (f"companion @ git+{CONFIG['repository']['url']}"
            f"@{CONFIG['repository']['branch']}")


def raw(text):
    return new_raw_cell(text)


def test_cell(exercise, hidden, points):
    """An otter test (exception-based) that runs the exercise's checks."""
    names = ", ".join(fn for _, fn in exercise.checks)
    seeds = "(1, 2)" if hidden else "(0,)"
    calls = ", ".join(f"checks.{check}({fn}, seed=seed)" for check, fn in exercise.checks)
    config = f"hidden: true\npoints: {points}" if hidden else f"points: {points}"
    kind = "further_cases" if hidden else "check"
    return new_code_cell(f'''""" # BEGIN TEST CONFIG
{config}
""" # END TEST CONFIG
def test_{kind}({names}):
    from companion import checks
    for seed in {seeds}:
        for feedback in [{calls}]:
            assert feedback.passed, feedback.message''')


def rubric(exercise):
    share = (f"{exercise.points} points: a share for each of the {exercise.parts} numbered "
             "questions" if exercise.parts > 1 else f"{exercise.points} points")
    return (f"**Rubric** ({share}). Full marks for an answer that reaches the solution's "
            "conclusion and gives its reason, in the student's own words, with the numbers the "
            "student's own run printed where the exercise asks to run a cell; half for the right "
            "conclusion without the reason; none for a conclusion without an argument.")


def question(nb, exercise, renderer):
    """The cells of one otter question for ``exercise``."""
    config = {"name": exercise.name, "points": exercise.points}
    if exercise.kind != "implement it":
        config["manual"] = True
    cells = [raw("# BEGIN QUESTION\n" + yaml.safe_dump(config, sort_keys=False).strip()),
             new_markdown_cell(renderer.blocks(exercise_cells.source(nb.cells[exercise.cell])))]
    if exercise.kind == "implement it":
        code = exercise_cells.with_markers(exercise_cells.solution_code(nb, exercise))
        public = exercise.points - exercise.points // 2
        cells += [raw("# BEGIN SOLUTION"), new_code_cell(code), raw("# END SOLUTION"),
                  raw("# BEGIN TESTS"), test_cell(exercise, False, public),
                  test_cell(exercise, True, exercise.points - public), raw("# END TESTS")]
    else:
        for j in range(exercise.cell + 1, exercise.solution[0]):  # the cell to run, if any
            cell = nb.cells[j]
            if cell.cell_type == "code" and "remove-cell" not in exercise_cells.tags(cell):
                cells.append(code_cell(cell, ignore=True))
        solution = renderer.solution_text([nb.cells[j] for j in exercise.solution])
        cells += [raw("# BEGIN SOLUTION"),
                  new_markdown_cell(f"**Solution.**\n\n{solution}\n\n{rubric(exercise)}"),
                  raw("# END SOLUTION")]
    return cells + [raw("# END QUESTION")]


def code_cell(cell, ignore):
    new = new_code_cell(exercise_cells.source(cell))
    tags = [t for t in exercise_cells.tags(cell) if t != "solution"]
    new.metadata["tags"] = tags + [IGNORE] if ignore else tags
    return new


def master_notebook(path, book=None):
    """The otter master notebook of the chapter at ``path``."""
    nb = nbformat.read(path, as_version=4)
    doc = path.stem
    book = book or reader_edition.Book(path.parent)
    renderer = reader_edition.Renderer(nb, doc, book, solutions=False, answers=False)
    found = {e.cell: e for e in exercise_cells.exercises(nb, doc)}
    setup = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"][:2]  # install, imports
    config = {"name": doc, "requirements": "requirements.txt",
              "export_cell": {"pdf": False, "run_tests": False},
              "tests": {"ok_format": False}, "generate": {"show_stdout": True}}
    cells = [raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False).strip())]
    i = 0
    while i < len(nb.cells):
        cell, tags = nb.cells[i], exercise_cells.tags(nb.cells[i])
        if i in found:
            exercise = found[i]
            cells += question(nb, exercise, renderer)
            i = (exercise.check if exercise.check is not None else exercise.solution[-1]) + 1
            continue
        if "remove-cell" in tags or "solution" in tags:
            pass
        elif cell.cell_type == "markdown":
            text = renderer.blocks(exercise_cells.source(cell))
            if text.strip():
                cells.append(new_markdown_cell(text))
        elif cell.cell_type == "code":
            cells.append(code_cell(cell, ignore=i not in setup))
        i += 1
    master = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    master.metadata.pop("jupytext", None)
    return master


def chapters_with_exercises(book=BOOK):
    return [p for p in sorted(book.glob("*.ipynb"))
            if exercise_cells.exercises(nbformat.read(p, as_version=4), p.stem)]


def build(paths, out=OUT, run_tests=True):
    """Write each chapter's master notebook and run ``otter assign`` on it; return the
    assignment folders."""
    from otter.assign import main as otter_assign

    book = reader_edition.Book(BOOK)
    folders = []
    for path in paths:
        folder = Path(out) / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        master = folder / path.name
        nbformat.write(master_notebook(path, book), master)
        (folder / "requirements.txt").write_text(companion_requirement() + "\n")
        cwd = os.getcwd()
        try:  # otter assign reads the files next to the master notebook
            os.chdir(folder)
            otter_assign(path.name, "dist", no_pdfs=True, no_run_tests=not run_tests)
        finally:
            os.chdir(cwd)
        folders.append(folder)
    return folders


# --- grading -----------------------------------------------------------------------------------

def autograder_zip(assignment):
    found = sorted((Path(assignment) / "dist" / "autograder").glob("*.zip"))
    if not found:
        raise FileNotFoundError(f"no autograder zip in {assignment}/dist/autograder: build first")
    return found[-1]


def _worker(results):
    """Grade the jobs that come on stdin, one JSON line ``[index, autograder zip, submission]``
    each, one after another in this process; write each one's result to ``results/INDEX.json``
    as soon as it is graded."""
    from otter.api import grade_submission

    for line in sys.stdin:
        index, zip_path, submission = json.loads(line)
        graded = grade_submission(submission, zip_path, quiet=True)
        questions = {}
        for name, test_file in graded.results.items():
            messages = [_short(r.message) for r in test_file.test_case_results
                        if not r.passed and r.message]
            questions[name] = {"score": test_file.score, "possible": test_file.possible,
                               "messages": messages}
        result = {"submission": submission, "score": graded.total,
                  "possible": graded.possible, "questions": questions}
        temporary = Path(results) / f"{index}.tmp"
        temporary.write_text(json.dumps(result))
        temporary.rename(Path(results) / f"{index}.json")


def _short(message):
    """A failed test's message without otter's traceback: the check's own words."""
    found = re.findall(r"^\w*Error: (.*)$", message.strip(), re.M)
    return found[-1] if found else message.strip()


def grade(pairs, timeout=300, jobs=2):
    """Grade submissions, given as (assignment folder, submission notebook) pairs, with
    ``jobs`` processes, each grading one submission after another, the next free one taking the
    next submission; return one result dict per submission, in order. A submission still
    running after ``timeout`` seconds is stopped and scored 0, with ``"timeout": True``."""
    zips = {a: str(autograder_zip(a)) for a in {str(a) for a, _ in pairs}}
    possible = {a: _points_possible(a) for a in zips}
    pending = [[i, zips[str(a)], str(Path(s).resolve())] for i, (a, s) in enumerate(pairs)]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        workers, current, started = [None] * jobs, [None] * jobs, [0.0] * jobs
        try:
            while pending or any(job is not None for job in current):
                for k in range(jobs):
                    if current[k] is None and pending:
                        if workers[k] is None:
                            workers[k] = subprocess.Popen(
                                [sys.executable, __file__, "_worker", tmp],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, text=True)
                        current[k], started[k] = pending.pop(0), time.monotonic()
                        workers[k].stdin.write(json.dumps(current[k]) + "\n")
                        workers[k].stdin.flush()
                    if current[k] is None:
                        continue
                    index, _, submission = current[k]
                    done = Path(tmp) / f"{index}.json"
                    if done.exists():
                        results[index] = json.loads(done.read_text())
                        current[k] = None
                    elif (workers[k].poll() is not None
                          or time.monotonic() - started[k] > timeout):
                        why = "crash" if workers[k].poll() is not None else "timeout"
                        _stop(workers[k])
                        results[index] = {"submission": submission, "score": 0,
                                          "questions": {}, why: True,
                                          "possible": possible[str(pairs[index][0])]}
                        workers[k], current[k] = None, None
                time.sleep(0.05)
        finally:
            for worker in workers:
                if worker is not None:
                    worker.stdin.close()
                    try:
                        worker.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        _stop(worker)
    return [results[i] for i in range(len(pairs))]


def _stop(worker):
    """Stop a grading process and the kernel it started (same process group)."""
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait()


def _points_possible(assignment):
    master = next(Path(assignment).glob("*.ipynb"))
    return sum(yaml.safe_load(c.source.split("\n", 1)[1]).get("points", 0)
               for c in nbformat.read(master, as_version=4).cells
               if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION")
               and "manual: true" not in c.source)


def write_csv(results, path):
    names = sorted({q for r in results for q in r["questions"]})
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", *names, "score", "possible", "messages"])
        for r in results:
            messages = list(dict.fromkeys(  # a message once, though two tests failed on it
                f"{q}: {m}" for q in names for m in r["questions"].get(q, {}).get("messages", [])))
            if r.get("timeout"):
                messages.append("stopped: ran past the time limit")
            writer.writerow([Path(r["submission"]).name,
                             *[r["questions"].get(q, {}).get("score", 0) for q in names],
                             r["score"], r["possible"], " | ".join(messages)])


# --- the course plan ---------------------------------------------------------------------------

PLAN_START, PLAN_END = "<!-- course plan: start -->", "<!-- course plan: end -->"


def reading_minutes(path, book=None):
    """Minutes to read a chapter's text as students get it (no solutions, no answers), at
    WORDS_PER_MINUTE, rounded up to 5 minutes."""
    nb = nbformat.read(path, as_version=4)
    book = book or reader_edition.Book(path.parent)
    rendered = reader_edition.Renderer(nb, path.stem, book, solutions=False,
                                       answers=False).render()
    text = "\n".join(c.source for c in rendered.cells if c.cell_type == "markdown")
    text = re.sub(r"<[^>]+>|\$\$.*?\$\$", " ", text, flags=re.S)
    words = len(re.findall(r"[A-Za-z0-9][\w'.-]*", text))
    return 5 * -(-words // (5 * WORDS_PER_MINUTE)), words


def plan_markdown(book_dir=BOOK):
    """The course plan and the table of exercises, as MyST Markdown."""
    book = reader_edition.Book(book_dir)
    found = exercise_cells.book_exercises(book_dir)
    plan, rows = [], []
    total = [0, 0, 0, 0, 0]  # reading, exercises, their minutes, autograded and manual points
    for week, docs in WEEKS.items():
        sums = [0, 0, 0, 0, 0]
        for doc in docs:
            reading, _ = reading_minutes(book_dir / f"{doc}.ipynb", book)
            mine = found.get(doc, [])
            auto = sum(e.points for e in mine if e.kind == "implement it")
            manual = sum(e.points for e in mine if e.kind != "implement it")
            numbers = [reading, len(mine), sum(e.minutes for e in mine), auto, manual]
            sums = [a + b for a, b in zip(sums, numbers)]
            count = f"{len(mine)} ({numbers[2]} min)" if mine else "none"
            plan.append(f"| {week} | {{doc}}`{doc}` | {reading} | {count} | {auto} | {manual} |")
            for e in mine:
                graded = "otter, autograded" if e.kind == "implement it" else "by hand, rubric"
                rows.append(f"| {{doc}}`{doc}` | {{ref}}`{e.label}` | {e.kind} | {e.minutes} | "
                            f"{e.points} | {graded} |")
        plan.append(f"| **{week}** | **week {week}** | **{sums[0]}** | **{sums[1]} ({sums[2]} "
                    f"min)** | **{sums[3]}** | **{sums[4]}** |")
        total = [a + b for a, b in zip(total, sums)]
    return "\n".join([
        PLAN_START,
        "| week | chapter | reading (min) | exercises | autograded points | points graded by "
        "hand |",
        "|---|---|---|---|---|---|",
        *plan,
        f"| | **all** | **{total[0]}** | **{total[1]} ({total[2]} min)** | **{total[3]}** | "
        f"**{total[4]}** |",
        "",
        f"In all {total[3] + total[4]} points, {total[3]} of them graded by otter.",
        "",
        "| chapter | exercise | kind | minutes | points | graded |",
        "|---|---|---|---|---|---|",
        *rows,
        PLAN_END,
    ])


def instructors_page_with_plan(page_text, plan):
    start, end = page_text.index(PLAN_START), page_text.index(PLAN_END) + len(PLAN_END)
    return page_text[:start] + plan + page_text[end:]


def command_line():
    """The tool's command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="make the otter assignments")
    b.add_argument("chapters", nargs="*", type=Path, help="default: every chapter with exercises")
    b.add_argument("--out", type=Path, default=OUT, help="default: %(default)s")
    b.add_argument("--no-run-tests", action="store_true",
                   help="skip otter assign's run of the tests on the solutions")
    g = sub.add_parser("grade", help="grade submissions with otter's runner")
    g.add_argument("assignment", type=Path, help="an assignment folder made by build")
    g.add_argument("submissions", nargs="+", type=Path)
    g.add_argument("--timeout", type=float, default=300, help="seconds per submission")
    g.add_argument("--jobs", type=int, default=2, help="submissions graded at once")
    g.add_argument("--csv", type=Path, default=Path("grades.csv"), help="default: %(default)s")
    p = sub.add_parser("plan", help="print the course plan of book/instructors.md")
    p.add_argument("--write", action="store_true", help="write it into book/instructors.md")
    w = sub.add_parser("_worker")
    w.add_argument("results")
    return parser


def main(argv=None):
    args = command_line().parse_args(argv)
    if args.command == "build":
        folders = build(args.chapters or chapters_with_exercises(), args.out,
                        run_tests=not args.no_run_tests)
        for folder in folders:
            print(f"{folder}: hand out dist/student/{folder.name}.ipynb; grade with "
                  f"{autograder_zip(folder).relative_to(folder)}")
    elif args.command == "grade":
        results = grade([(args.assignment, s) for s in args.submissions], args.timeout,
                        args.jobs)
        for r in results:
            note = " (stopped: ran past the time limit)" if r.get("timeout") else ""
            print(f"{Path(r['submission']).name}: {r['score']:g} / {r['possible']:g}{note}")
        write_csv(results, args.csv)
        print(f"scores and messages: {args.csv}")
    elif args.command == "plan":
        plan = plan_markdown()
        if args.write:
            page = BOOK / "instructors.md"
            page.write_text(instructors_page_with_plan(page.read_text(), plan))
        print(plan)
    elif args.command == "_worker":
        _worker(args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
