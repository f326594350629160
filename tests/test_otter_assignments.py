"""The otter-grader assignments (tools/otter_assignments.py) and the one marking of solutions
they share with the book (tools/exercises.py).

Every chapter with exercises builds an assignment with ``otter assign`` (otter-grader 7), one
question per exercise; the student gets the chapter's stubs. Graded with otter's runner, the
reference solution scores full marks, the untouched student notebook zero, and a submission
with one typical mistake loses that question's points, with the check's message in its
results; a submission that raises is scored, one that never ends is stopped and scored 0. All
submissions are graded in one call, two processes at a time, as ``grade`` does for a class.
"""

import copy
import csv
import re
import shlex
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import exercises  # noqa: E402
import otter_assignments  # noqa: E402

CHAPTERS = otter_assignments.chapters_with_exercises()
FOUND = exercises.book_exercises()
IMPLEMENT = [e for found in FOUND.values() for e in found if e.kind == "implement it"]

# One typical mistake per implement-it exercise: the code a learner submits, and the words of
# the check's message that name the mistake.
MISTAKES = {
    "ex-initialization-he": ('''
def my_he_init(rng, fan_in, fan_out):
    W = rng.normal(0.0, 2 / fan_in, size=(fan_in, fan_out))  # a variance as the std
    return W.astype(np.float32), np.zeros(fan_out, np.float32)''', "the variance"),
    "ex-forward-softmax": ('''
def my_softmax(Z):
    E = np.exp(Z)  # no max subtracted
    return E / E.sum(axis=1, keepdims=True)''', "subtract each row's maximum"),
    "ex-loss-cross-entropy": ('''
def my_cross_entropy(Z2, y):
    m = Z2.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(Z2 - m).sum(axis=1))
    return float(np.sum(lse - Z2[np.arange(len(y)), y]))  # the sum''', "divide by N"),
    "ex-backprop-backward": ('''
def my_backward(params, cache, y):
    N, C = cache["A2"].shape
    dZ2 = (cache["A2"] - np.eye(C)[y]) / N
    dZ1 = dZ2 @ params["W2"].T  # no ReLU mask
    return {"W1": cache["X"].T @ dZ1, "b1": dZ1.sum(axis=0),
            "W2": cache["A1"].T @ dZ2, "b2": dZ2.sum(axis=0)}''', "ignore the ReLU"),
    "ex-backprop-numerical-gradient": ('''
def my_numerical_gradient(f, x, h=1e-5):
    grad, base = np.zeros(x.shape), f()
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f() - base) / h  # one-sided
        x[i] = old
    return grad''', "one-sided"),
    "ex-updates-momentum-step": ('''
def my_momentum_step(p, g, v, lr, mu):
    v = mu * v + (1 - mu) * g  # an average
    return p - lr * v, v''', "an average"),
    "ex-updates-adam": ('''
def my_adam_step(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / np.sqrt(v_hat + eps), m, v''', "inside the square root"),
    "ex-training-loop": ('''
def my_train(params, X, y, learning_rate, epochs, batch_size, seed):
    for _ in range(epochs):
        for i in range(0, len(X), batch_size):  # never shuffled
            cache = forward.forward(params, X[i:i + batch_size])
            grads = backward.backward(params, cache, y[i:i + batch_size])
            for k in params:
                params[k] -= learning_rate * grads[k]
    return params''', "never shuffles"),
    "ex-training-confusion": ('''
def my_accuracy(y_true, y_pred):
    return float(np.mean(y_true == y_pred))


def my_confusion_matrix(y_true, y_pred, C):
    M = np.zeros((C, C), dtype=int)
    M[y_true, y_pred] += 1
    return M''', "counts a repeated pair once"),
    "ex-gen-early-stopping": ('''
def my_kept_epoch(val_losses, patience):
    best, kept = np.inf, 0
    for epoch, value in enumerate(val_losses, start=1):
        if value <= best:  # a tie counted as an improvement
            best, kept = value, epoch
        if epoch - kept >= patience:
            return kept, epoch
    return kept, len(val_losses)''', "strictly lower"),
    "ex-pytorch-to-torch": ('''
def my_to_torch(params):
    D, H = params["W1"].shape
    C = params["W2"].shape[1]
    model = nn.Sequential(nn.Linear(D, H), nn.ReLU(), nn.Linear(H, C))
    model.to(dtype=torch.from_numpy(params["W1"]).dtype)
    for layer, i in ((model[0], 1), (model[2], 2)):
        layer.weight = nn.Parameter(torch.tensor(params[f"W{i}"]))  # not transposed
        layer.bias = nn.Parameter(torch.tensor(params[f"b{i}"]))
    return model''', "nn.Linear stores (out_features, in_features)"),
}


def code_cells(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every chapter's assignment, made by the command of the instructors' page (without otter
    assign's own run of the tests: the tests below grade the solutions)."""
    out = tmp_path_factory.mktemp("otter")
    otter_assignments.main(["build", "--out", str(out), "--no-run-tests"])
    return {path.stem: out / path.stem for path in CHAPTERS}


def test_every_chapter_from_initialization_on_is_an_assignment():
    assert [p.stem for p in CHAPTERS] == sorted(FOUND) and len(CHAPTERS) >= 8
    assert {e.label for e in IMPLEMENT} == set(MISTAKES), "a typical mistake per exercise"


def test_every_assignment_builds_with_one_question_per_exercise(built):
    for chapter, found in FOUND.items():
        dist = built[chapter] / "dist"
        student = nbformat.read(dist / "student" / f"{chapter}.ipynb", as_version=4)
        solved = nbformat.read(dist / "autograder" / f"{chapter}.ipynb", as_version=4)
        text = "\n".join(c.source for c in student.cells)
        assert "# BEGIN SOLUTION" not in text and "BEGIN QUESTION\nname" not in text
        autograded = [e for e in found if e.kind == "implement it"]
        tests = {Path(n).stem for n in zipfile.ZipFile(otter_assignments.autograder_zip(
            built[chapter])).namelist() if n.startswith("tests/")}
        assert tests == {e.name for e in autograded}, chapter
        for e in autograded:
            assert text.count(f'grader.check("{e.name}")') == 1
            assert not any(c.startswith(("raise", "assert")) for c in code_cells(student))
        manual = [e for e in found if e.kind != "implement it"]
        answers = [c for c in student.cells if "otter_answer_cell" in c.metadata.get("tags", [])
                   and c.cell_type == "markdown"]
        assert len(answers) == len(manual), chapter
        assert text.count("### Exercise ") == len(found) and "{exercise}" not in text
        rubrics = "\n".join(c.source for c in solved.cells)
        assert rubrics.count("**Rubric**") == len(manual) and "**Rubric**" not in text


def test_the_student_gets_the_chapters_stub_and_the_solution_marking_is_one(built):
    from otter.assign.solutions import replace_solutions

    for e in IMPLEMENT:
        nb = nbformat.read(ROOT / "book" / f"{e.chapter}.ipynb", as_version=4)
        solution = exercises.solution_code(nb, e)
        stub = exercises.source(nb.cells[e.stub])
        assert stub == exercises.stub_of(solution), (
            f"{e.label}: the stub cell and its solution drifted apart; the stub should be\n"
            f"{exercises.stub_of(solution)}")
        marked = exercises.with_markers(solution)
        assert "\n".join(replace_solutions(marked.split("\n"), "python")) == stub
        student = nbformat.read(built[e.chapter] / "dist" / "student" / f"{e.chapter}.ipynb",
                                as_version=4)
        assert stub in code_cells(student), e.label


def test_stubs_and_markers_from_a_solution():
    solution = ('def f(x):  # noqa: F811\n    """Twice x."""\n    y = 2 * x\n    return y\n\n\n'
                'def g():\n    """Nothing."""\n    return None\n')
    assert exercises.stub_of(solution) == (
        'def f(x):\n    """Twice x."""\n    ...\n\n\ndef g():\n    """Nothing."""\n    ...')
    assert exercises.with_markers(solution).split("\n")[2:6] == [
        "    # BEGIN SOLUTION", "    y = 2 * x", "    return y", "    # END SOLUTION"]
    for bad in ("x = 1\n", "def f():\n    return 1\n", 'def f():\n    """Doc."""\n'):
        with pytest.raises(ValueError):
            exercises.stub_of(bad)


def with_code(nb, function, code):
    """A copy of the notebook with the cell defining ``function`` replaced by ``code``."""
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if c.cell_type == "code" and f"def {function}(" in c.source)
    cell.source = code.strip("\n")
    return nb


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory):
    """The submissions of every chapter but chapter 3 (graded through the command below),
    graded in one call, as a class's would be: {(chapter, kind): result}."""
    tmp = tmp_path_factory.mktemp("submissions")
    pairs, keys = [], []
    for chapter in sorted({e.chapter for e in IMPLEMENT} - {"03_forward"}):
        for kind, nb in submissions(built, chapter).items():
            path = tmp / f"{chapter}-{kind}.ipynb"
            nbformat.write(nb, path)
            pairs.append((built[chapter], path))
            keys.append((chapter, kind))
    return dict(zip(keys, otter_assignments.grade(pairs, timeout=120, jobs=2)))


def submissions(built, chapter):
    """The reference solution, the untouched student notebook, and a submission with one
    typical mistake per implement-it exercise."""
    dist = built[chapter] / "dist"
    solved = nbformat.read(dist / "autograder" / f"{chapter}.ipynb", as_version=4)
    found = {"reference": solved,
             "untouched": nbformat.read(dist / "student" / f"{chapter}.ipynb", as_version=4)}
    for e in IMPLEMENT:
        if e.chapter == chapter:
            found[e.label] = with_code(solved, e.checks[0][1], MISTAKES[e.label][0])
    return found


def points(chapter):
    return sum(e.points for e in FOUND[chapter] if e.kind == "implement it")


@pytest.mark.parametrize("chapter", sorted({e.chapter for e in IMPLEMENT} - {"03_forward"}))
def test_reference_scores_full_marks_and_untouched_zero(graded, chapter):
    reference, untouched = graded[chapter, "reference"], graded[chapter, "untouched"]
    assert reference["score"] == reference["possible"] == points(chapter), reference
    assert untouched["score"] == 0 and untouched["possible"] == points(chapter), untouched
    assert all("returns None" in q["messages"][0] for q in untouched["questions"].values())


@pytest.mark.parametrize("exercise", [e for e in IMPLEMENT if e.chapter != "03_forward"],
                         ids=lambda e: e.label)
def test_one_typical_mistake_loses_that_questions_points_with_the_checks_message(graded,
                                                                               exercise):
    result = graded[exercise.chapter, exercise.label]
    assert result["score"] == points(exercise.chapter) - exercise.points, result
    question = result["questions"][exercise.name]
    assert question["score"] == 0
    assert any(MISTAKES[exercise.label][1] in m for m in question["messages"]), question


def test_the_grade_command_scores_a_class_and_stops_an_endless_submission(built, tmp_path):
    """Chapter 3 through the command an instructor runs: the reference, the untouched notebook,
    a typical mistake, a function that raises, and a notebook that never ends."""
    # the endless one first: its wait overlaps the grading of the others. The time limit is
    # far above the 8 s or so of one submission: on a busy machine (CI runs two test processes
    # on two cores) a right one took more than 12 s and was stopped
    found = {"endless": None, **submissions(built, "03_forward")}
    solved = found["reference"]
    found["raises"] = with_code(solved, "my_softmax", '''
def my_softmax(Z):
    """Row-wise softmax."""
    return Z[10]''')
    found["endless"] = with_code(solved, "my_softmax",  # waits for ever, using no CPU
                                 "import time\nwhile True:\n    time.sleep(1)")
    paths = []
    for kind, nb in found.items():
        paths.append(tmp_path / f"{kind}.ipynb")
        nbformat.write(nb, paths[-1])
    grades = tmp_path / "grades.csv"
    otter_assignments.main(["grade", str(built["03_forward"]), *map(str, paths),
                            "--timeout", "30", "--csv", str(grades)])
    rows = {Path(r["submission"]).stem: r for r in csv.DictReader(grades.open())}
    assert {k: (r["score"], r["possible"]) for k, r in rows.items()} == {
        "reference": ("2", "2"), "untouched": ("0", "2"), "ex-forward-softmax": ("0", "2"),
        "raises": ("0", "2"), "endless": ("0", "2")}
    assert rows["reference"]["messages"] == ""
    assert rows["untouched"]["messages"] == ("ex_forward_softmax: returns None: replace ... "
                                             "with your code and return the result")
    assert MISTAKES["ex-forward-softmax"][1] in rows["ex-forward-softmax"]["messages"]
    assert "raised IndexError" in rows["raises"]["messages"]
    assert rows["endless"]["messages"] == "stopped: ran past the time limit"


PAGE = ROOT / "book" / "instructors.md"


def test_the_instructors_page_shows_the_plan_of_the_chapters_as_they_are():
    page, plan = PAGE.read_text(), otter_assignments.plan_markdown()
    assert otter_assignments.instructors_page_with_plan(page, plan) == page, (
        "run python tools/otter_assignments.py plan --write")


def test_the_commands_on_the_instructors_page_are_the_tools():
    commands = re.findall(r"^python tools/otter_assignments\.py (.*?)(?:\s+#.*)?$",
                          PAGE.read_text(), re.M)
    assert len(commands) >= 3
    parser = otter_assignments.command_line()
    for command in commands:
        args = parser.parse_args(shlex.split(command))
        for path in getattr(args, "chapters", []):
            assert (ROOT / path).exists(), command


def test_reading_time_from_the_words(tmp_path):
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    words = " ".join(["word"] * (2 * otter_assignments.WORDS_PER_MINUTE + 1))
    nb = new_notebook(cells=[new_markdown_cell("# A page\n\n" + words),
                             new_code_cell("x = 1  # code is not read as prose")])
    (tmp_path / "page.ipynb").write_text(nbformat.writes(nb))
    minutes, counted = otter_assignments.reading_minutes(tmp_path / "page.ipynb")
    assert counted == 2 * otter_assignments.WORDS_PER_MINUTE + 3 and minutes == 5
