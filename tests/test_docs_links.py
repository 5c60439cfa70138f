"""The README and docs/ point only at files of the repository, and every such link resolves:
a reader who follows one lands on a file (and, for `#anchor`, a heading) that exists."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)


def prose(path: Path) -> str:
    """The text of a markdown file without its code (a shell snippet is not a link)."""
    return INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))


def slug(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    title = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", title)
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m["title"]) for m in HEADING.finditer(text)}


def relative_links(path: Path) -> list[str]:
    return [
        m["target"]
        for m in LINK.finditer(prose(path))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", m["target"], re.IGNORECASE)  # http:, https:, mailto:
    ]


def test_the_documents_exist():
    names = {p.relative_to(ROOT).as_posix() for p in DOCUMENTS}
    assert {"README.md", "docs/api.md", "docs/operations.md", "docs/testing.md", "docs/architecture.md"} <= names
    assert any(name.startswith("docs/decisions/") for name in names)


def broken_links(document: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for target in relative_links(document):
        file_part, _, anchor = target.partition("#")
        resolved = (document.parent / file_part).resolve() if file_part else document
        if not resolved.is_relative_to(root):
            broken.append(f"{target}: outside the repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading #{anchor} in {resolved.relative_to(root).as_posix()}")
    return broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_inside_the_repository(document):
    broken = broken_links(document)
    assert not broken, f"{document.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_nothing_points_outside_the_repository(document):
    text = document.read_text(encoding="utf-8")
    # The folder beside the repository that the project started from is never named (spelled in two
    # parts so that this file does not name it either): a clone alone must explain itself.
    assert "../" + "shared" not in text
    assert not re.search(r"\]\(/(?!/)", text), "a link to an absolute path of this machine"


def test_the_checker_finds_broken_links(tmp_path):
    """The check above can fail: a missing file, a path out of the tree, a missing anchor; code
    blocks, web addresses and links that resolve are left alone."""
    root = (tmp_path / "repo").resolve()
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "other.md").write_text("# Other page\n\n## A `code` heading: yes\n", encoding="utf-8")
    page = root / "docs" / "page.md"
    page.write_text(
        "# Title\n\n[a](missing.md) [b](../../outside.md) [c](#nowhere) [d](#title) [e](https://example.com)\n"
        "[f](other.md#a-code-heading-yes) [g](other.md#gone) [h](../docs/other.md)\n"
        "```sh\n[not a link](nowhere.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page, root) == [
        "missing.md: no such file",
        "../../outside.md: outside the repository",
        "#nowhere: no heading #nowhere in docs/page.md",
        "other.md#gone: no heading #gone in docs/other.md",
    ]


CODE_REFERENCE = re.compile(r"\b(?:docs/[\w./-]+\.md|bench/README\.md)")


def test_documents_named_in_the_code_exist():
    """Comments and docstrings that send the reader to docs/ or bench/README.md name real files."""
    sources = [*(ROOT / "app").rglob("*.py"), *(ROOT / "bench").glob("*.py"), ROOT / "config.py", ROOT / "Makefile"]
    missing = sorted(
        f"{source.relative_to(ROOT)}: {name}"
        for source in sources
        for name in set(CODE_REFERENCE.findall(source.read_text(encoding="utf-8")))
        if not (ROOT / name).exists()
    )
    assert not missing, missing
