"""Every grader against its catalogue (tests/catalogue.py): each wrong answer gets NOT YET with
a message naming its mistake, and each right answer, written another way, gets PASS."""

import pytest
from catalogue import CATALOGUE

WRONG = [(name, i, fn, words) for name, (_, wrong, _) in CATALOGUE.items()
         for i, (fn, words) in enumerate(wrong)]
RIGHT = [(name, i, fn) for name, (_, _, right) in CATALOGUE.items() for i, fn in enumerate(right)]


def test_every_exercise_has_at_least_eight_wrong_answers_and_three_right_ones():
    for name, (_, wrong, right) in CATALOGUE.items():
        assert len(wrong) >= 8 and len(right) >= 3, name


@pytest.mark.parametrize("name, i, fn, words", WRONG, ids=[f"{w[0]}-{w[1]}" for w in WRONG])
def test_a_wrong_answer_gets_not_yet_and_its_mistake_named(name, i, fn, words):
    feedback = CATALOGUE[name][0](fn, time_limit=0.5)
    assert not feedback.passed, f"{name}: wrong answer {i} passes"
    assert words in feedback.message, f"{name}: answer {i} expected {words!r}, got {feedback!r}"


@pytest.mark.parametrize("name, i, fn", RIGHT, ids=[f"{r[0]}-{r[1]}" for r in RIGHT])
def test_a_right_answer_written_another_way_passes(name, i, fn):
    check = CATALOGUE[name][0]
    for seed in (0, 1, 2):  # the public cases and the hidden tests' further ones
        feedback = check(fn, seed=seed)
        assert feedback.passed, f"{name}: right answer {i} (seed {seed}): {feedback!r}"
