"""Where readers run the chapters besides this machine: Binder and Colab.

- Binder (mybinder.org) builds ``binder/``: ``runtime.txt`` (Python 3.11), ``requirements.txt``
  (the pins of the book's own environment, with the CPU-only torch) and ``postBuild`` (installs
  the companion from the checkout). Checked here: the files, the pins against
  ``../requirements.txt``, that every import of the chapters and the companion is provided, and
  that pip's resolver accepts the requirements in a fresh virtual environment.
- Colab runs each chapter's first cell, which installs the companion from the repository when
  ``import companion`` fails. Checked here for real: in a fresh virtual environment that has
  Colab's kind of packages but no companion and no torch, the cell (each distinct one, with the
  repository's URL replaced by a copy of this checkout) installs the companion and nothing
  else; run again, and wherever the companion is installed (here, CI, Binder), it does nothing.
"""

import ast
import importlib.metadata
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from IPython.core.inputtransformer2 import TransformerManager
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from test_book import CONFIG, REPO_URL, cells, notebooks

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirements(path):
    """{canonical name: Requirement} of a requirements file, and its option lines."""
    reqs, options = {}, []
    for line in path.read_text().splitlines():
        line = line.split(" #")[0].strip()
        if line.startswith("-"):
            options.append(line)
        elif line and not line.startswith("#"):
            req = Requirement(line)
            reqs[canonicalize_name(req.name)] = req
    return reqs, options


def pinned(req):
    """The version of a ``name==version`` requirement, else None."""
    specs = list(req.specifier)
    return specs[0].version if len(specs) == 1 and specs[0].operator == "==" else None


BINDER_REQS, BINDER_OPTIONS = requirements(BINDER / "requirements.txt")
BOOK_REQS, _ = requirements(ROOT / "requirements.txt")


def install_cell(path):
    """The first code cell of a chapter, as the Python that IPython runs (magics included)."""
    return TransformerManager().transform_cell("".join(cells(path, "code")[0]["source"]))


def imported_modules(code):
    """Top-level names of the modules that ``code`` imports (absolute imports only)."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def dependency_closure(names):
    """The names, and everything they require in this environment, as canonical names."""
    seen, todo = set(), list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in requires:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


# --- Binder -----------------------------------------------------------------------------------


def test_binder_runs_python_3_11():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


def test_binder_requirements_are_pinned_and_take_the_cpu_only_torch():
    assert not [name for name, req in BINDER_REQS.items() if not pinned(req)], "unpinned"
    assert f"--extra-index-url {TORCH_CPU_INDEX}" in BINDER_OPTIONS
    # The local label "+cpu" exists only on that index: PyPI's torch is the CUDA build.
    assert pinned(BINDER_REQS["torch"]).endswith("+cpu")


def test_binder_pins_are_those_of_the_book_environment():
    differ = {name: (pinned(req), pinned(BOOK_REQS[name])) for name, req in BINDER_REQS.items()
              if name in BOOK_REQS
              and pinned(req).removesuffix("+cpu") != pinned(BOOK_REQS[name])}
    assert not differ, "binder/requirements.txt and requirements.txt pin different versions"


def test_binder_provides_every_import_of_the_companion_and_the_chapters():
    companion = PYPROJECT["project"]
    declared = companion["dependencies"] + companion["optional-dependencies"]["torch"]
    missing = {canonicalize_name(Requirement(r).name) for r in declared} - set(BINDER_REQS)
    assert not missing, "postBuild installs the companion with --no-deps: list these"

    code = [install_cell(nb) for nb in notebooks()]
    code += [TransformerManager().transform_cell("".join(c["source"]))
             for nb in notebooks() for c in cells(nb, "code")[1:]]
    code += [path.read_text() for path in (ROOT / "companion").glob("*.py")]
    modules = set().union(*map(imported_modules, code))
    modules -= set(sys.stdlib_module_names) | {"companion"}
    providers = importlib.metadata.packages_distributions()
    available = dependency_closure(BINDER_REQS)
    unprovided = {m for m in modules
                  if not {canonicalize_name(d) for d in providers.get(m, [m])} & available}
    assert not unprovided, "modules imported by the book that Binder would not install"


def test_binder_post_build_installs_the_companion_from_the_checkout():
    post_build = BINDER / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR, "postBuild must be executable"
    mode = subprocess.run(["git", "ls-files", "-s", "binder/postBuild"], cwd=ROOT,
                          capture_output=True, text=True).stdout.split()
    assert not mode or mode[0] == "100755", "commit postBuild as executable"
    text = post_build.read_text()
    assert text.startswith("#!/bin/bash\n") and "set -euo pipefail" in text
    assert "python -m pip install --no-cache-dir --no-deps ." in text


def test_binder_requirements_resolve_in_a_fresh_venv(tmp_path):
    """pip's resolver, in an empty virtual environment, on binder/requirements.txt plus the
    companion: everything pinned resolves together, torch is the CPU build, and no CUDA
    libraries come with it. (About 45 s here; needs the package indexes.)"""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    report = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
         "--dry-run", "--ignore-installed", "--quiet", "--retries", "1", "--report", report,
         "-r", BINDER / "requirements.txt", ROOT],
        capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    resolved = {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
                for item in json.loads(report.read_text())["install"]}
    assert resolved["torch"] == pinned(BINDER_REQS["torch"])
    assert {n: v for n, v in resolved.items() if n in BINDER_REQS} == {
        n: pinned(r) for n, r in BINDER_REQS.items()}
    assert "companion" in resolved
    cuda = [n for n in resolved if n.startswith(("nvidia-", "triton"))]
    assert not cuda, "CUDA packages in the Binder environment"


# --- The install cell (Colab) -----------------------------------------------------------------

# Runs cells in a Python without IPython: %pip as IPython runs it (the same interpreter's pip,
# through the shell), recording each call; then reports where the companion was imported from.
RUNNER = """
import json, shlex, subprocess, sys

PIP_CALLS = []


class Shell:
    def run_line_magic(self, name, line):
        assert name == "pip", name
        PIP_CALLS.append(line)
        subprocess.run(f"{shlex.quote(sys.executable)} -m pip {line}", shell=True)


def get_ipython():
    return Shell()


for path in sys.argv[1:]:
    exec(compile(open(path).read(), path, "exec"))
import companion

print(json.dumps({"pip_calls": PIP_CALLS, "companion": companion.__file__}))
"""

# What Colab already has, among the companion's dependencies (torch aside: see below).
# (threadpoolctl comes with Colab's scikit-learn.)
COLAB_LIKE = ["pip", "numpy", "pandas", "matplotlib", "tqdm", "pooch", "threadpoolctl"]


def copy_distributions(names, site_packages):
    """Copy the installed files of ``names`` and of what they require into site_packages."""
    for name in sorted(dependency_closure(names)):
        dist = importlib.metadata.distribution(name)
        for file in dist.files or []:
            source = Path(dist.locate_file(file))
            if file.parts[0] != ".." and source.is_file():
                target = site_packages / file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)


def installed(site_packages):
    """{dist-info folder: modification time of its RECORD}: changes when pip (re)installs."""
    return {d.name: (d / "RECORD").stat().st_mtime_ns
            for d in site_packages.glob("*.dist-info")}


def run_cells(python, paths, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([python, "-I", "-c", RUNNER, *paths], cwd=cwd, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def write_cells(folder, codes, url=None):
    """Install cells as .py files, the repository's URL replaced by ``url``."""
    folder.mkdir(exist_ok=True)
    paths = []
    for i, code in enumerate(codes):
        if url:
            repo = f"git+{REPO_URL}@{CONFIG['repository']['branch']}"
            assert repo in code
            code = code.replace(repo, url)
        paths.append(folder / f"cell_{i}.py")
        paths[-1].write_text(code)
    return paths


# The chapters' install cells, each distinct one with the chapters that use it.
VARIANTS = {}
for _nb in notebooks():
    VARIANTS.setdefault(install_cell(_nb), []).append(_nb.stem)


@pytest.mark.parametrize("code", list(VARIANTS),
                         ids=lambda code: f"{VARIANTS[code][0]}+{len(VARIANTS[code]) - 1}")
def test_install_cell_installs_the_companion_once_and_nothing_else(tmp_path, code):
    source = tmp_path / "checkout"  # what `pip install git+URL@main` fetches and builds
    shutil.copytree(ROOT / "companion", source / "companion",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    site_packages = next(venv.glob("lib/python3*/site-packages"))
    copy_distributions(COLAB_LIKE, site_packages)
    before = installed(site_packages)
    [cell] = write_cells(tmp_path / "cell", [code], url=source.as_uri())

    result = run_cells(python, [cell], cwd=tmp_path)
    assert len(result["pip_calls"]) == 1
    assert Path(result["companion"]).is_relative_to(site_packages)
    after = installed(site_packages)
    added = set(after) - set(before)
    assert len(added) == 1 and added.pop().startswith("companion-"), "installed more"
    assert {k: after[k] for k in before} == before, "reinstalled a package already there"
    # torch is not in the venv, and the cell did not install it: on Colab, whose torch is
    # built for its GPUs, it leaves torch alone.
    assert not list(site_packages.glob("torch*"))

    every_chapter = write_cells(tmp_path / "cells", list(VARIANTS), url=source.as_uri())
    again = run_cells(python, every_chapter, cwd=tmp_path)
    assert again["pip_calls"] == []
    assert installed(site_packages) == after


def test_install_cell_does_nothing_where_the_companion_is_installed(tmp_path):
    result = run_cells(sys.executable, write_cells(tmp_path / "cells", list(VARIANTS)),
                       cwd=tmp_path)
    assert result["pip_calls"] == []


def test_install_cell_that_cannot_install_says_what_to_do(tmp_path):
    """A wrong address or no network: pip fails, and the learner gets one short error that
    says what to check, not two chained tracebacks."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    site_packages = next(venv.glob("lib/python3*/site-packages"))
    copy_distributions(["pip"], site_packages)
    [cell] = write_cells(tmp_path / "cell", [next(iter(VARIANTS))],
                         url=(tmp_path / "no-such-checkout").as_uri())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([venv / "bin" / "python", "-I", "-c", RUNNER, cell], cwd=tmp_path,
                         env=env, capture_output=True, text=True)
    assert run.returncode != 0
    assert "ImportError: The companion package could not be installed" in run.stderr
    assert "check the" in run.stderr.lower() and "pip install" in run.stderr
    assert "During handling of the above exception" not in run.stderr
    assert run.stderr.count("Traceback") == 1
