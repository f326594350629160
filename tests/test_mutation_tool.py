"""tools/mutation.py: how it reads mutmut's files and counts killed, survived and equivalent."""

import importlib.util
import json
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location(
    "mutation", Path(__file__).resolve().parents[1] / "tools" / "mutation.py")
mutation = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutation)

# A mutated module as mutmut writes it: the original function and each mutant, renamed.
SOURCE = '''\
def x_f__mutmut_orig(a):
    b = a + 1
    return b > 0
def x_f__mutmut_1(a):
    b = a - 1
    return b > 0
def x_f__mutmut_2(a):
    b = a + 1
    return b >= 0
def xǁOptǁstep__mutmut_orig(self):
    return self.lr
def xǁOptǁstep__mutmut_1(self):
    return None
'''
SPANS = {"x_f__mutmut_orig": [1, 3], "x_f__mutmut_1": [4, 6], "x_f__mutmut_2": [7, 9],
         "xǁOptǁstep__mutmut_orig": [10, 11], "xǁOptǁstep__mutmut_1": [12, 13]}
CODES = {"companion.m.x_f__mutmut_1": 1, "companion.m.x_f__mutmut_2": 0,
         "companion.m.xǁOptǁstep__mutmut_1": 0}
EQUIVALENT = {"function": "companion.m.f", "was": "return b > 0", "now": "return b >= 0",
              "why": "b is never 0"}


@pytest.fixture
def mutants(tmp_path, monkeypatch):
    folder = tmp_path / "mutants" / "companion"
    folder.mkdir(parents=True)
    (folder / "m.py").write_text(SOURCE)
    (folder / "m.py.spans").write_text(json.dumps({"version": 1, "spans": SPANS}))
    (folder / "m.py.meta").write_text(json.dumps({"exit_code_by_key": CODES}))
    monkeypatch.setattr(mutation, "MUTANTS", tmp_path / "mutants")


def test_each_mutant_is_named_by_its_function_and_its_changed_line(mutants):
    rows = mutation.load_results()["m"]
    assert rows == [
        ("companion.m.x_f__mutmut_1", 1, "companion.m.f", "b = a + 1", "b = a - 1"),
        ("companion.m.x_f__mutmut_2", 0, "companion.m.f", "return b > 0", "return b >= 0"),
        ("companion.m.xǁOptǁstep__mutmut_1", 0, "companion.m.Opt.step", "return self.lr",
         "return None")]


def test_table_counts_equivalent_survivors_apart(mutants, capsys):
    assert not mutation.report(mutation.load_results(), [EQUIVALENT])  # 1 of 2 killed
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("m "))
    assert row.split()[:6] == ["m", "3", "1", "1", "1", "50.0%"]
    assert "companion.m.xǁOptǁstep__mutmut_1" in out and "Stale" not in out


def test_an_entry_that_matches_no_survivor_is_stale(mutants, capsys):
    stale = dict(EQUIVALENT, now="return b < 0")
    assert not mutation.report(mutation.load_results(), [EQUIVALENT, stale])
    assert "Stale entries" in capsys.readouterr().out


def test_goal_met_when_every_survivor_is_equivalent(mutants, capsys, monkeypatch):
    method = {"function": "companion.m.Opt.step", "was": "return self.lr", "now": "return None",
              "why": "test"}
    assert mutation.report(mutation.load_results(), [EQUIVALENT, method])
    monkeypatch.setitem(CODES, "companion.m.x_f__mutmut_1", None)  # not run yet
    (mutation.MUTANTS / "companion" / "m.py.meta").write_text(
        json.dumps({"exit_code_by_key": CODES}))
    assert not mutation.report(mutation.load_results(), [EQUIVALENT, method])
    assert "1 mutants not run yet" in capsys.readouterr().out


def test_the_equivalent_list_is_well_formed():
    entries = mutation.tomllib.loads(mutation.EQUIVALENT.read_text())["equivalent"]
    assert entries
    for entry in entries:
        assert set(entry) == {"function", "was", "now", "why"}
        assert entry["function"].startswith("companion.") and entry["was"] != entry["now"]
        assert len(entry["why"]) > 20


@pytest.mark.parametrize("argv, workers", [([], "1"), (["--workers", "2"], "2")])
def test_a_run_asks_mutmut_for_the_workers_at_the_lowest_priority(argv, workers, mutants,
                                                                    monkeypatch):
    ran = []
    monkeypatch.setattr(mutation.subprocess, "run", lambda cmd, **kwargs: ran.append(cmd))
    monkeypatch.setattr(mutation.sys, "argv", ["mutation.py", *argv])
    with pytest.raises(SystemExit):
        mutation.main()
    assert ran[0][:3] == ["nice", "-n", "19"] and ran[0][-3:] == ["run", "--max-children", workers]


def test_zero_workers_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(mutation.sys, "argv", ["mutation.py", "--workers", "0"])
    with pytest.raises(SystemExit):
        mutation.main()
    assert "--workers must be 1 or more, got 0" in capsys.readouterr().err
