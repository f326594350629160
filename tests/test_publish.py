"""Publishing the book: one place for the repository's address, citation, versions.

- ``_config.yml`` keeps the repository's address and branch; ``tools/set_repository.py`` writes
  a new one into every copy (install cells, README, CITATION.cff), tested here on temporary
  copies of those files, and ``--check`` says whether they agree (they must, in the tree).
- ``CITATION.cff`` is valid Citation File Format 1.2.0 (the schema shipped in
  check-jsonschema) and names the companion's version, the book's title and addresses.
- ``CHANGELOG.md`` has an entry for the companion's version, shown in the book's "What
  changed" page; the footer of every page shows the version (tests/test_site.py).
"""

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_book import CONFIG, REPO_URL, cells, toc_files

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "set_repository.py"
BRANCH = CONFIG["repository"]["branch"]
CITATION = ROOT / "CITATION.cff"


def companion_version():
    """``__version__`` as written in companion/__init__.py (the source, not what is installed)."""
    tree = ast.parse((ROOT / "companion" / "__init__.py").read_text())
    return next(ast.literal_eval(node.value) for node in tree.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "__version__")


def tool(*args, root=ROOT):
    return subprocess.run([sys.executable, TOOL, *args, "--root", root],
                          capture_output=True, text=True, timeout=60)


# --- The repository's address -----------------------------------------------------------------


def test_every_file_names_the_repository_of_config():
    done = tool("--check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_tells_forks_how_to_set_the_address_in_its_first_lines():
    first_lines = "\n".join((ROOT / "README.md").read_text().splitlines()[:15])
    assert "python tools/set_repository.py https://github.com/" in first_lines


@pytest.fixture
def copy(tmp_path):
    """The files that name the repository, copied into a temporary folder."""
    for name in ["_config.yml", "README.md", "CITATION.cff", "book"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    return tmp_path


def snapshot(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


NEW_URL, NEW_BRANCH = "https://github.com/Some-One/nn-book.fork", "spring-2027"


def test_one_command_sets_a_new_address_and_branch_everywhere(copy):
    before = snapshot(copy)
    done = tool(NEW_URL, "--branch", NEW_BRANCH, root=copy)
    assert done.returncode == 0, done.stderr
    after = snapshot(copy)

    config = yaml.safe_load((copy / "_config.yml").read_text())
    assert config["repository"]["url"] == NEW_URL
    assert config["repository"]["branch"] == NEW_BRANCH
    assert {k: v for k, v in config.items() if k != "repository"} == {
        k: v for k, v in CONFIG.items() if k != "repository"}
    owner, repo = REPO_URL.split("/")[-2:]
    old_pages = f"https://{owner}.github.io/{repo}/"
    for path, data in after.items():
        assert REPO_URL.encode() not in data, path
        assert old_pages.encode() not in data, path
    for path in sorted((copy / "book").glob("*.ipynb")):
        install = "".join(cells(path, "code")[0]["source"])
        assert f"git+{NEW_URL}@{NEW_BRANCH}" in install, path.name
    readme = (copy / "README.md").read_text()
    assert f"git+{NEW_URL}@{NEW_BRANCH}" in readme
    citation = yaml.safe_load((copy / "CITATION.cff").read_text())
    assert citation["repository-code"] == NEW_URL
    assert citation["url"] == "https://some-one.github.io/nn-book.fork/"
    # only lines that held the address changed, and the notebooks are still notebooks
    for path in before:
        old, new = before[path].decode().splitlines(), after[path].decode().splitlines()
        assert len(old) == len(new), path
        for a, b in zip(old, new):
            assert a == b or REPO_URL in a or old_pages in a or a == f"  branch: {BRANCH}", (
                path, a, b)
        if path.suffix == ".ipynb":
            json.loads(after[path])
    assert tool("--check", root=copy).returncode == 0


def test_setting_the_old_address_back_restores_every_file_byte_for_byte(copy):
    before = snapshot(copy)
    assert tool(NEW_URL, "--branch", NEW_BRANCH, root=copy).returncode == 0
    assert snapshot(copy) != before
    assert tool(REPO_URL, "--branch", BRANCH, root=copy).returncode == 0
    assert snapshot(copy) == before


def test_the_branch_is_kept_unless_given(copy):
    assert tool(NEW_URL, root=copy).returncode == 0
    assert yaml.safe_load((copy / "_config.yml").read_text())["repository"] == {
        **CONFIG["repository"], "url": NEW_URL}


def test_any_install_cell_is_rewritten_whatever_repository_it_named(copy):
    """The tool goes by pattern: an install cell that names another repository or branch (a
    chapter written elsewhere) is set to the address of _config.yml too."""
    path = sorted((copy / "book").glob("*.ipynb"))[0]
    stale = "git+https://github.com/someone-else/old-copy.git@v0.9"
    text = path.read_text()
    path.write_text(text.replace(f"git+{REPO_URL}@{BRANCH}", stale, 1))
    check = tool("--check", root=copy)
    assert check.returncode == 1 and stale in check.stdout
    assert tool(NEW_URL, "--branch", NEW_BRANCH, root=copy).returncode == 0
    assert stale not in path.read_text()
    assert f"git+{NEW_URL}@{NEW_BRANCH}" in path.read_text()


def test_check_finds_a_copy_of_the_address_left_behind(copy):
    readme = copy / "README.md"
    readme.write_text(readme.read_text() + f"\nOld home: {REPO_URL.replace('from', 'FROM')}2\n")
    done = tool("--check", root=copy)
    assert done.returncode == 1 and "README.md" in done.stdout


@pytest.mark.parametrize("args", [["https://gitlab.com/a/b"], ["not a url"],
                                  [NEW_URL, "--branch", "bad branch"], []])
def test_the_tool_refuses_what_it_cannot_set(copy, args):
    before = snapshot(copy)
    done = tool(*args, root=copy)
    assert done.returncode == 2 and done.stderr
    assert snapshot(copy) == before


# --- Citation and versions --------------------------------------------------------------------


def check_citation(path):
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.citation-file-format", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_citation_file_is_valid_cff():
    done = check_citation(CITATION)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_cff_check_rejects_a_broken_citation(tmp_path):
    citation = yaml.safe_load(CITATION.read_text())
    del citation["authors"]
    broken = tmp_path / "CITATION.cff"
    broken.write_text(yaml.safe_dump(citation))
    assert check_citation(broken).returncode != 0


def test_citation_names_the_version_title_and_addresses_of_the_book():
    citation = yaml.safe_load(CITATION.read_text())
    assert citation["version"] == companion_version()
    assert citation["title"] == CONFIG["title"]
    assert citation["repository-code"] == REPO_URL
    owner, repo = REPO_URL.split("/")[-2:]
    assert citation["url"] == f"https://{owner.lower()}.github.io/{repo}/"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'license = \{ text = "' + re.escape(citation["license"]), pyproject)


def changelog_versions():
    text = (ROOT / "CHANGELOG.md").read_text()
    return re.findall(r"^## (\S+)", text, re.M)


def test_changelog_has_an_entry_for_the_companion_version():
    versions = [v for v in changelog_versions() if v != "Unreleased"]
    assert versions[0] == companion_version(), "newest first; the first must be this version"
    assert len(set(versions)) == len(versions)


def test_the_book_shows_the_changelog():
    assert "book/changelog" in toc_files()
    page = (ROOT / "book" / "changelog.md").read_text()
    marker = re.search(r":start-after: (.+)", page)[1]
    assert (ROOT / "CHANGELOG.md").read_text().count(marker) == 1

