"""CI check: every test file (or test) that the README, docs/ or bench/README.md cites ran and
passed in at least one stage of this CI run, so a claim never rests on a test that was skipped.

Usage: python scripts/check_cited_tests.py JUNIT.xml [JUNIT.xml ...]
Exit status 1 when a cited test file ran no test, or a cited test was skipped in every stage."""

import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITATION = re.compile(r"\btests/[A-Za-z0-9_/]+\.py(?:::[A-Za-z0-9_]+)?")


def cited() -> dict[str, set[str]]:
    """Cited files → the test names cited in them (empty: the whole file)."""
    sources = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    found: dict[str, set[str]] = defaultdict(set)
    for source in sources:
        if not source.exists():
            continue
        for match in CITATION.findall(source.read_text(encoding="utf-8")):
            path, _, name = match.partition("::")
            if (ROOT / path).name.startswith("test_"):
                found[path]
                if name:
                    found[path].add(name)
    return found


def _file_of(classname: str) -> str:
    """tests.test_auth (or tests.test_auth.TestClass) → tests/test_auth.py."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end]) + ".py"
        if (ROOT / candidate).exists():
            return candidate
    return classname


def outcomes(reports: list[str]) -> dict[tuple[str, str], set[str]]:
    """(file, test name without parameters) → outcomes seen over every report."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for report in reports:
        for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314  (this CI run's own reports)
            path = _file_of(case.get("classname", ""))
            name = case.get("name", "").split("[", 1)[0]
            children = {child.tag for child in case}
            outcome = "skipped" if "skipped" in children else "failed" if children & {"failure", "error"} else "passed"
            seen[(path, name)].add(outcome)
    return seen


def main(reports: list[str]) -> int:
    seen = outcomes(reports)
    problems = []
    for path, names in sorted(cited().items()):
        in_file = {name: result for (file, name), result in seen.items() if file == path}
        if not in_file:
            problems.append(f"{path}: cited, but no test of it ran")
            continue
        wanted = names or set(in_file)
        for name in sorted(wanted):
            result = in_file.get(name)
            if result is None:
                problems.append(f"{path}::{name}: cited, but it did not run")
            elif "passed" not in result:
                problems.append(f"{path}::{name}: cited, but {'/'.join(sorted(result))} in every stage")
    for line in problems:
        print(f"check_cited_tests: {line}")
    print(f"check_cited_tests: {len(cited())} cited test files, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
