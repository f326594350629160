"""Every grader against its catalogue (tests/catalogue.py): each wrong answer gets NOT YET with
a message naming its mistake, and each right answer, written another way, gets PASS.

The whole of each message, as a learner reads it, is kept in tests/checks_messages.txt, one
line per answer (``exercise-i``, or ``exercise-pass`` for the right answers): a change to any
message shows there, for review. After changing a message on purpose, rewrite the file with
``PYTHONPATH=. python tests/test_checks_catalogue.py`` (from the repository root) and read
the diff.
"""

from pathlib import Path

import pytest
from catalogue import CATALOGUE

MESSAGES_FILE = Path(__file__).with_name("checks_messages.txt")
WRONG = [(name, i, fn, words) for name, (_, wrong, _) in CATALOGUE.items()
         for i, (fn, words) in enumerate(wrong)]
RIGHT = [(name, i, fn) for name, (_, _, right) in CATALOGUE.items() for i, fn in enumerate(right)]
SEEDS = (0, 1, 2)  # the public cases and the hidden tests' further ones
TIME_LIMIT = 0.5  # for the answers that never finish


def read_messages():
    """``{"exercise-i": "NOT YET: ...", "exercise-pass": "PASS: ..."}`` from the file."""
    lines = MESSAGES_FILE.read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


MESSAGES = read_messages() if MESSAGES_FILE.exists() else {}


def test_every_exercise_has_at_least_eight_wrong_answers_and_three_right_ones():
    for name, (_, wrong, right) in CATALOGUE.items():
        assert len(wrong) >= 8 and len(right) >= 3, name


def test_the_messages_file_has_one_line_per_answer_and_no_other():
    expected = {f"{name}-{i}" for name, i, _, _ in WRONG} | {f"{name}-pass" for name in CATALOGUE}
    assert set(MESSAGES) == expected


@pytest.mark.parametrize("name, i, fn, words", WRONG, ids=[f"{w[0]}-{w[1]}" for w in WRONG])
def test_a_wrong_answer_gets_not_yet_and_its_mistake_named(name, i, fn, words):
    feedback = CATALOGUE[name][0](fn, time_limit=TIME_LIMIT)
    assert feedback.passed is False, f"{name}: wrong answer {i} passes"  # a bool, to count
    assert words in feedback.message, f"{name}: answer {i} expected {words!r}, got {feedback!r}"
    assert repr(feedback) == MESSAGES.get(f"{name}-{i}"), "the message in checks_messages.txt"


@pytest.mark.parametrize("name, i, fn", RIGHT, ids=[f"{r[0]}-{r[1]}" for r in RIGHT])
def test_a_right_answer_written_another_way_passes(name, i, fn):
    check = CATALOGUE[name][0]
    for seed in SEEDS:
        feedback = check(fn, seed=seed)
        assert feedback.passed is True, f"{name}: right answer {i} (seed {seed}): {feedback!r}"
        assert repr(feedback) == MESSAGES.get(f"{name}-pass"), "the message in the file"


def write_messages():
    lines = ["# What each grader says to each answer of tests/catalogue.py: the wrong answers",
             "# by their place in the exercise's list, then what every right answer gets.",
             "# Written by `python tests/test_checks_catalogue.py`; compared by that test file."]
    for name, (check, wrong, right) in CATALOGUE.items():
        lines.append("")
        for i, (fn, _) in enumerate(wrong):
            lines.append(f"{name}-{i}: {check(fn, time_limit=TIME_LIMIT)!r}")
        lines.append(f"{name}-pass: {check(right[0])!r}")
    MESSAGES_FILE.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    write_messages()
