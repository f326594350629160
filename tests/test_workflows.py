"""The GitHub Actions workflows that publish the book, checked offline.

- ``deploy.yml``: on a push to main, the README's two commands (install and build, then every
  test), then ``_build/html`` uploaded with ``actions/upload-pages-artifact`` and published by
  ``actions/deploy-pages`` in a second job, the only one allowed to write to Pages.
- ``linkcheck.yml``: once a week, ``jupyter-book build . --builder linkcheck`` (external links
  need the network, so this is not part of ``.ci/run``).

Each file is valid YAML, valid against the GitHub workflow schema (SchemaStore's, shipped in
check-jsonschema) and clean under the zizmor linter (offline audits). The linters are also
shown a broken workflow, to prove that they can fail.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_project import readme_commands

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
DEPLOY = WORKFLOWS / "deploy.yml"
LINKCHECK = WORKFLOWS / "linkcheck.yml"
ZIZMOR = shutil.which("zizmor") or str(Path(sys.executable).with_name("zizmor"))
CHECK_JSONSCHEMA = [sys.executable, "-m", "check_jsonschema"]
PINNED = re.compile(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def load(path):
    """A workflow as data. PyYAML reads the key ``on`` as True (YAML 1.1); named back here."""
    workflow = yaml.safe_load(path.read_text())
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def steps(job):
    return job["steps"]


def uses(job):
    """The actions that a job uses, without their pins."""
    return [s["uses"].split("@")[0] for s in steps(job) if "uses" in s]


def run_lines(job):
    return [s["run"].strip() for s in steps(job) if "run" in s]


def step_using(job, action):
    return next(s for s in steps(job) if s.get("uses", "").startswith(action + "@"))


def test_deploy_runs_on_pushes_to_main():
    on = load(DEPLOY)["on"]
    assert on["push"]["branches"] == ["main"]
    assert "pull_request" not in on, "a pull request must not publish the site"


def test_deploy_builds_and_tests_with_exactly_the_readme_commands():
    build = load(DEPLOY)["jobs"]["build"]
    assert run_lines(build)[:3] == readme_commands()
    assert build["container"]["image"].startswith("python:3.11-"), "README: Debian, Python 3.11"
    assert "actions/checkout" in uses(build)
    assert uses(build)[1] == "actions/upload-pages-artifact", "upload after the tests pass"
    assert step_using(build, "actions/upload-pages-artifact")["with"]["path"] == "_build/html"


def test_deploy_writes_the_reader_edition_to_the_branch_the_launch_buttons_open():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    branch = config["sphinx"]["config"]["html_theme_options"]["repository_branch"]
    assert branch != config["repository"]["branch"], "the reader edition is not the source"
    jobs = load(DEPLOY)["jobs"]
    build, reader = jobs["build"], jobs["reader"]
    render = run_lines(build)[3]
    assert "python tools/reader_edition.py --out _build/reader" in render
    upload = step_using(build, "actions/upload-artifact")["with"]
    download = step_using(reader, "actions/download-artifact")["with"]
    assert upload["name"] == download["name"] and upload["path"] == "_build/reader/book"
    assert reader["needs"] == "build", "only a build whose tests passed is published"
    assert reader["permissions"] == {"contents": "write"}
    assert reader["env"]["BRANCH"] == branch
    script = run_lines(reader)[0]
    assert 'git checkout -B "$BRANCH"' in script and "cp _build/reader/*.ipynb book/" in script
    assert script.endswith('git push --force origin "$BRANCH"')


@pytest.mark.parametrize("path", [DEPLOY, LINKCHECK], ids=lambda p: p.name)
def test_installs_take_the_cpu_only_torch_as_binder_does(path):
    job = next(iter(load(path)["jobs"].values()))
    binder = (ROOT / "binder" / "requirements.txt").read_text()
    index = job["env"]["PIP_EXTRA_INDEX_URL"]
    assert f"--extra-index-url {index}\n" in binder


def test_deploy_publishes_in_its_own_job_with_the_pages_permissions():
    workflow = load(DEPLOY)
    assert workflow["permissions"] == {}, "no permission unless a job asks for it"
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert set(workflow["jobs"]) == {"build", "deploy", "reader"}
    assert build["permissions"] == {"contents": "read"}
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert uses(deploy) == ["actions/deploy-pages"]
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_linkcheck_runs_weekly_with_the_linkcheck_builder():
    workflow = load(LINKCHECK)
    crons = [s["cron"] for s in workflow["on"]["schedule"]]
    assert len(crons) == 1
    minute, hour, day, month, weekday = crons[0].split()
    assert (day, month) == ("*", "*") and weekday.isdigit(), "once a week"
    job = workflow["jobs"]["linkcheck"]
    assert run_lines(job) == ["pip install -r requirements.txt -e .",
                              "jupyter-book build . --builder linkcheck"]


@pytest.mark.parametrize("path", [DEPLOY, LINKCHECK], ids=lambda p: p.name)
def test_actions_are_pinned_to_commits(path):
    for job in load(path)["jobs"].values():
        for step in steps(job):
            if "uses" in step:
                assert PINNED.match(step["uses"]), step["uses"]


def test_linkcheck_is_not_part_of_ci():
    assert "linkcheck" not in (ROOT / ".ci" / "run").read_text()


def schema_errors(*paths):
    """check-jsonschema's verdict on workflow files: (return code, output)."""
    done = subprocess.run([*CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows",
                           *map(str, paths)], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def zizmor(path):
    """zizmor's findings (offline audits, default persona) on a file or folder."""
    done = subprocess.run([ZIZMOR, "--offline", "--format", "json", "--no-progress", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 11, 12, 13, 14), done.stderr  # 1x: findings of severity x
    return json.loads(done.stdout)


def test_workflows_match_the_github_workflow_schema():
    code, output = schema_errors(DEPLOY, LINKCHECK)
    assert code == 0, output


def test_workflows_pass_the_zizmor_linter():
    findings = zizmor(WORKFLOWS)
    assert not findings, [(f["ident"], f["desc"]) for f in findings]


BROKEN = """\
name: broken
on:
  issues:
    types: [opened]
permissions: write-all
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.issue.title }}"
"""


def test_the_linters_reject_a_broken_workflow(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "broken.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BROKEN)
    found = {f["ident"] for f in zizmor(bad)}
    assert {"template-injection", "unpinned-uses", "artipacked"} <= found, found
    bad.write_text(BROKEN.replace("runs-on:", "runs_on:"))
    assert schema_errors(bad)[0] != 0
