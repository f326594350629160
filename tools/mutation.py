"""Mutation testing of the companion with mutmut, and its per-module table.

    python tools/mutation.py            # run mutmut (one worker, nice 19), then print the table
    python tools/mutation.py --workers 2  # two mutants at a time (about 40 minutes on 2 cores)
    python tools/mutation.py --report   # print the table of the last run only
    python tools/mutation.py --fresh    # forget earlier results first (after changing tests)

mutmut's settings (which files, which tests) are in ``pyproject.toml`` under ``[tool.mutmut]``;
tests/README.md says how to read the result. mutmut keeps what it has learnt in ``mutants/``
and reruns only the mutants of functions whose code changed: after changing the tests, use
``--fresh`` (or ``mutmut run NAME`` for one mutant).

A surviving mutant that no test could kill, because it changes nothing a caller can observe, is
listed with the reason in ``tests/mutmut_equivalent.toml``: the function, the line as written
(``was``) and as mutated (``now``). The table counts such a mutant as equivalent, not survived;
an entry that matches no surviving mutant is printed as stale. Score = killed / (generated -
equivalent). The exit status is 1 when a module misses its goal (95% for the network modules,
90% for the graders and the plots) or an entry is stale.
"""

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
EQUIVALENT = ROOT / "tests" / "mutmut_equivalent.toml"
GOAL = {"plots": 0.90, "checks": 0.90}  # every other module: 0.95
# mutmut's exit codes (mutmut/stats.py): 1 and 3 are test failures, 36 and the SIGXCPU codes
# time-outs (a mutant that loops or crawls is caught too), 37 a type-checker catch, -9/-11
# crashes; 0 survived and 33/5 no test covered the function.
KILLED = {1, 3, 37, 36, 24, -24, 152, 255, -9, -11}


def mutant_diff(source_lines, spans, key):
    """The lines a mutant removes and adds, compared with the function it was made from."""
    mangled = key.rpartition(".")[2]
    orig = mangled.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"

    def body(name):
        start, end = spans[name]
        return [line.replace(name, "NAME").strip() for line in source_lines[start - 1:end]]

    removed, added = [], []
    for line in difflib.ndiff(body(orig), body(mangled)):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return " / ".join(removed), " / ".join(added)


def function_name(key):
    """``companion.optim.xǁAdamǁstep__mutmut_3`` -> ``companion.optim.Adam.step``."""
    module, _, mangled = key.rpartition(".")
    name = mangled.rsplit("__mutmut_", 1)[0]
    name = name[2:] if name.startswith("x_") else name[1:]  # x_f, or xǁClassǁmethod
    return f"{module}.{name.strip('ǁ').replace('ǁ', '.')}"


def load_results():
    """``{module: [(key, exit code, function, was, now)]}`` from mutmut's files."""
    results = {}
    for meta in sorted((MUTANTS / "companion").glob("*.py.meta")):
        module = meta.name.removesuffix(".py.meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        source = meta.with_suffix("").read_text().splitlines()
        spans = json.loads(meta.with_suffix(".spans").read_text())["spans"]
        rows = []
        for key, code in sorted(codes.items()):
            rows.append((key, code, function_name(key), *mutant_diff(source, spans, key)))
        results[module] = rows
    return results


def report(results, equivalent):
    """Print the table and every survivor; return True when every goal is met."""
    used = Counter()
    lines, survivors, ok = [], [], True
    header = f"{'module':<10} {'generated':>9} {'killed':>7} {'survived':>8} {'equivalent':>10} " \
             f"{'score':>7}  goal"
    total = Counter()
    for module, rows in results.items():
        n = Counter()
        for key, code, func, was, now in rows:
            n["generated"] += 1
            match = [i for i, e in enumerate(equivalent)
                     if e["function"] == func and e["was"] == was and e["now"] == now]
            if code is None:  # not tested yet: a run cut short, or restricted to some names
                n["not run"] += 1
            elif code in KILLED:
                n["killed"] += 1
            elif match:
                n["equivalent"] += 1
                used[match[0]] += 1
            else:
                n["survived"] += 1
                survivors.append(f"{key} ({'no test' if code in (5, 33) else code})\n"
                                 f"      was: {was}\n      now: {now}")
        score = n["killed"] / max(1, n["generated"] - n["equivalent"] - n["not run"])
        goal = GOAL.get(module, 0.95)
        ok &= score >= goal and not n["not run"]
        total += n
        verdict = "not run" if n["not run"] else "ok" if score >= goal else "MISSED"
        lines.append(f"{module:<10} {n['generated']:>9} {n['killed']:>7} {n['survived']:>8} "
                     f"{n['equivalent']:>10} {score:>7.1%}  {verdict} ({goal:.0%})")
    score = total["killed"] / max(1, total["generated"] - total["equivalent"] - total["not run"])
    lines.append(f"{'all':<10} {total['generated']:>9} {total['killed']:>7} "
                 f"{total['survived']:>8} {total['equivalent']:>10} {score:>7.1%}")
    print(header, *lines, sep="\n")
    if total["not run"]:
        print(f"\nIncomplete: {total['not run']} mutants not run yet (scores leave them out).")
    if survivors:
        print(f"\nSurvivors ({len(survivors)}; `mutmut show NAME` shows one in context):")
        print(*survivors, sep="\n")
    stale = [e for i, e in enumerate(equivalent) if not used[i]]
    if stale:
        print(f"\nStale entries in {EQUIVALENT.relative_to(ROOT)} (no surviving mutant matches):")
        for e in stale:
            print(f"  {e['function']}: {e['now']}")
    return ok and not stale


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--report", action="store_true", help="print the last run's table only")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first")
    parser.add_argument("--workers", type=int, default=1,
                        help="mutants tested at a time (default 1: the machine is shared)")
    args = parser.parse_args()
    if not args.report:
        if args.fresh:
            shutil.rmtree(MUTANTS, ignore_errors=True)
        mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
        if args.workers < 1:
            parser.error(f"--workers must be 1 or more, got {args.workers}")
        # at the lowest priority: the machine is shared
        env = dict(os.environ, PYTHONPATH=str(ROOT))  # the package of this tree, not another
        subprocess.run(["nice", "-n", "19", mutmut, "run", "--max-children", str(args.workers)],
                       cwd=ROOT, env=env, check=True)
    equivalent = tomllib.loads(EQUIVALENT.read_text())["equivalent"]
    sys.exit(0 if report(load_results(), equivalent) else 1)


if __name__ == "__main__":
    main()
