"""Set the book's GitHub repository (and branch) everywhere, in one command: for forks.

    python tools/set_repository.py https://github.com/OWNER/REPO              # branch kept
    python tools/set_repository.py https://github.com/OWNER/REPO --branch dev
    python tools/set_repository.py --check    # does every file agree with _config.yml?

``_config.yml`` (``repository: url, branch``) is the one place the address is kept; this
tool rewrites it and every copy that cannot read it:

- every chapter's install cell (``book/*.ipynb``): any ``git+https://github.com/...@REF``
  becomes ``git+NEW@BRANCH``, whatever repository it named;
- every other mention of the old address in ``book/`` (links in the prose), ``README.md``
  (the pip command) and ``CITATION.cff`` (the repository and the website, OWNER.github.io/REPO);
- links to the old branch (``/blob/BRANCH/``, ``/tree/BRANCH/``) follow the new branch.

Files are edited as text, so nothing else in them changes (notebooks keep their outputs and
formatting): running the tool back with the old address gives the files back byte for byte.
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GITHUB = re.compile(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?")
# A pip requirement from a GitHub repository, as in the install cells: git+URL@REF.
GIT_REQUIREMENT = re.compile(r"git\+https://github\.com/[\w.-]+/[\w.-]+?(?:\.git)?@[\w./-]+"
                             r"(?<![./-])")
GITHUB_LINK = re.compile(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)")
END = r"(?![\w.-])"  # an address ends here: not followed by more of a name


def files(root):
    """The files that hold the address, besides _config.yml."""
    found = sorted((root / "book").glob("*.ipynb")) + sorted((root / "book").glob("*.md"))
    found += [root / name for name in ("README.md", "CITATION.cff")]
    return [path for path in found if path.is_file()]


def pages_url(url):
    """The GitHub Pages address of a repository: https://OWNER.github.io/REPO/."""
    match = GITHUB.fullmatch(url)
    return f"https://{match['owner'].lower()}.github.io/{match['repo']}/"


def read_config(root):
    """(url, branch) of the ``repository:`` section of _config.yml, read as text."""
    text = (root / "_config.yml").read_text()
    section = re.search(r"^repository:\n((?:[ \t]+.*\n|\n)*)", text, re.M)[1]
    url = re.search(r"^\s+url:\s*(\S+)", section, re.M)[1]
    branch = re.search(r"^\s+branch:\s*(\S+)", section, re.M)[1]
    return url, branch


def write_config(root, url, branch):
    path = root / "_config.yml"
    text = path.read_text()
    start = text.index("\nrepository:\n") + 1
    end = re.compile(r"^\S", re.M).search(text, start + len("repository:\n"))
    end = end.start() if end else len(text)
    section = re.sub(r"^(\s+url:\s*)\S+", lambda m: m[1] + url, text[start:end], count=1,
                     flags=re.M)
    section = re.sub(r"^(\s+branch:\s*)\S+", lambda m: m[1] + branch, section, count=1,
                     flags=re.M)
    path.write_text(text[:start] + section + text[end:])


def rewrite(text, old, new):
    """``text`` with the old (url, branch) replaced by the new one, as described above."""
    (old_url, old_branch), (new_url, new_branch) = old, new
    text = GIT_REQUIREMENT.sub(lambda m: f"git+{new_url}@{new_branch}", text)
    for kind in ("blob", "tree"):
        text = text.replace(f"{old_url}/{kind}/{old_branch}/", f"{new_url}/{kind}/{new_branch}/")
    text = re.sub(re.escape(old_url) + END, lambda m: new_url, text)
    return re.sub(re.escape(pages_url(old_url)), lambda m: pages_url(new_url), text)


def set_repository(url, branch=None, root=ROOT):
    """Write the new address everywhere; return the files that changed."""
    if not GITHUB.fullmatch(url):
        raise ValueError(f"not a GitHub repository address: {url!r} "
                         "(expected https://github.com/OWNER/REPO)")
    url = url.removesuffix("/").removesuffix(".git")
    old = read_config(root)
    new = (url, branch or old[1])
    if not re.fullmatch(r"[\w.-]+(?:/[\w.-]+)*", new[1]):
        raise ValueError(f"not a branch name: {new[1]!r}")
    changed = []
    if old != new:
        write_config(root, *new)
        changed.append(root / "_config.yml")
    for path in files(root):
        text = path.read_text()
        updated = rewrite(text, old, new)
        if updated != text:
            path.write_text(updated)
            changed.append(path)
    return changed


def disagreements(root=ROOT):
    """Places where a file names another address than _config.yml: an install cell with
    another repository or branch, or a link to a repository of the same owner or the same
    name (a copy left behind by a fork or a rename); and README.md or CITATION.cff lacking
    the address."""
    url, branch = read_config(root)
    ours = url.split("github.com/")[1].lower().split("/")
    found = []
    for path in files(root):
        text, name = path.read_text(), path.relative_to(root)
        found += [f"{name}: {m[0]}" for m in GIT_REQUIREMENT.finditer(text)
                  if m[0] != f"git+{url}@{branch}"]
        for match in GITHUB_LINK.finditer(text):
            theirs = [match["owner"].lower(), match["repo"].lower().removesuffix(".git")]
            if theirs != ours and (theirs[0] == ours[0] or theirs[1] == ours[1]):
                found.append(f"{name}: {match[0]}")
        if name.name in ("README.md", "CITATION.cff") and url not in text:
            found.append(f"{name}: does not name {url}")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="https://github.com/OWNER/REPO")
    parser.add_argument("--branch", help="the branch to publish and install from "
                        "(default: keep the current one)")
    parser.add_argument("--check", action="store_true",
                        help="only check that every file agrees with _config.yml")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check == bool(args.url):
        parser.error("give either a repository address or --check")
    if args.check:
        found = disagreements(args.root)
        url, branch = read_config(args.root)
        print("\n".join(found) if found else f"Every file names {url} @ {branch}.")
        return 1 if found else 0
    try:
        changed = set_repository(args.url, args.branch, args.root)
    except ValueError as error:
        parser.error(str(error))
    for path in changed:
        print(f"updated {path.relative_to(args.root)}")
    url, branch = read_config(args.root)
    print(f"The book now names {url} @ {branch} ({len(changed)} files changed).")
    print(f"Website, once published: {pages_url(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
