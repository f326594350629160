"""The project's own promises: CI runs exactly the README's commands; the package is small."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## The two commands")[1].split("\n## ")[0]
    return re.findall(r"```bash\n\s*(.+?)\n\s*```", section)


def test_ci_runs_exactly_the_readme_commands():
    commands = readme_commands()
    assert len(commands) == 3  # command 1 in two parts (system packages, Python), command 2
    assert commands[1].startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    assert commands[2].startswith(". .venv/bin/activate && ")
    ci = [line for line in (ROOT / ".ci/run").read_text().splitlines()
          if line and not line.startswith(("#", "set ", "cd ", "export "))]
    assert ci == commands


def test_companion_stays_readable_in_one_sitting():
    """The network modules (all but the exercise graders and glue) hold at most 600 code lines."""
    code_lines = 0
    for path in (ROOT / "companion").glob("*.py"):
        if path.name in ("checks.py", "glue.py"):
            continue
        in_docstring = False
        for line in path.read_text().splitlines():
            s = line.strip()
            if s.startswith(('"""', "'''")):
                if not (len(s) > 3 and s.endswith(('"""', "'''"))):
                    in_docstring = not in_docstring
                continue
            if not (in_docstring or not s or s.startswith("#")):
                code_lines += 1
    assert 100 < code_lines <= 600, code_lines


def test_virtual_environments_in_the_checkout_are_neither_built_nor_copied(tmp_path):
    import fnmatch
    import shutil
    import sys

    import yaml

    patterns = yaml.safe_load((ROOT / "_config.yml").read_text())["exclude_patterns"]
    for name in (".venv", "venv", "env"):
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name
    sys.path.insert(0, str(ROOT / "tools"))
    import student_edition

    for name in (".venv", "venv", "env", "book"):
        (tmp_path / "src" / name).mkdir(parents=True)
        (tmp_path / "src" / name / "page.md").write_text("# a page\n")
    shutil.copytree(tmp_path / "src", tmp_path / "copy", ignore=student_edition.SKIP)
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["book"]


def test_the_build_runs_the_chapters_on_one_thread_like_nbval(monkeypatch):
    import os
    import sys

    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["local_extensions"]["one_thread"] == "tools/"
    sys.path.insert(0, str(ROOT / "tools"))
    import one_thread

    for var in one_thread.THREAD_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "4")  # what the environment sets is kept
    assert one_thread.setup(None)["parallel_read_safe"]
    assert [os.environ[v] for v in one_thread.THREAD_VARIABLES] == ["1", "1", "4"]
