"""Tests about the test suite: every OWASP API Security Top 10 (2023) item that applies to this
API has at least one test marked `@pytest.mark.owasp("APIn")` (issue 6, item 3).

The marks are read from the test files themselves (not from the tests this run selected), so
the count is the same however pytest is invoked.
"""

import ast
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ITEMS = {
    "API1": "Broken Object Level Authorization",
    "API2": "Broken Authentication",
    "API3": "Broken Object Property Level Authorization",
    "API4": "Unrestricted Resource Consumption",
    "API5": "Broken Function Level Authorization",
    "API6": "Unrestricted Access to Sensitive Business Flows",
    "API7": "Server Side Request Forgery",
    "API8": "Security Misconfiguration",
    "API9": "Improper Inventory Management",
    "API10": "Unsafe Consumption of APIs",
}
# Items that do not apply, and why. Each still has a guard test (marked with the item) that
# fails when the reason stops being true.
NOT_APPLICABLE = {
    "API7": "the API fetches no URL given by a client (no webhooks, no image or feed URLs)",
    "API10": "the API consumes no third-party API (only its own database and Redis)",
}


def _owasp_items(decorator) -> list[str] | None:
    """The item named by `@pytest.mark.owasp("APIn")`, or None for another decorator."""
    if not isinstance(decorator, ast.Call):
        return None
    func = decorator.func
    if isinstance(func, ast.Attribute) and func.attr == "owasp":
        return [arg.value if isinstance(arg, ast.Constant) else ast.dump(arg) for arg in decorator.args]
    return None


def _module_marks(tree: ast.Module) -> list:
    """The marks of `pytestmark = pytest.mark.owasp(...)` (or a list of marks) at module level."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in node.targets):
            return list(node.value.elts) if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
    return []


def owasp_marks() -> tuple[dict[str, list[str]], list[str]]:
    """item -> ["file::test", ...] and a list of malformed marks, from every test file (marks on
    the test function, or on the whole module through `pytestmark`)."""
    found, malformed = defaultdict(list), []
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        module_marks = _module_marks(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.name.startswith("test_"):
                continue
            for decorator in [*node.decorator_list, *module_marks]:
                args = _owasp_items(decorator)
                if args is None:
                    continue
                where = f"{path.relative_to(TESTS.parent)}::{node.name}"
                if len(args) != 1 or args[0] not in ITEMS:
                    malformed.append(f"{where}: owasp{tuple(args)}")
                else:
                    found[args[0]].append(where)
    return found, malformed


def test_every_applicable_owasp_item_has_a_test(capsys):
    found, malformed = owasp_marks()

    with capsys.disabled():
        print("\nOWASP API Security Top 10 (2023):")
        for item, title in ITEMS.items():
            state = f"not applicable ({NOT_APPLICABLE[item]}), guarded" if item in NOT_APPLICABLE else "applies"
            print(f"  {item:5} {title}: {len(found[item])} tests, {state}")

    assert not malformed, malformed
    missing = [f"{item} {ITEMS[item]}" for item in ITEMS if item not in NOT_APPLICABLE and not found[item]]
    assert not missing, f"applicable OWASP items without a test: {missing}"
    unguarded = [item for item in NOT_APPLICABLE if not found[item]]
    assert not unguarded, f"items declared not applicable need a guard test keeping them so: {unguarded}"


def test_marks_seen_by_pytest_agree_with_the_files(request):
    """What pytest collected in this run carries well-formed marks (a mark with a wrong item or
    no argument would otherwise only show up in the static count)."""
    found, _ = owasp_marks()
    collected = [item for item in request.session.items if item.get_closest_marker("owasp")]
    for item in collected:
        for mark in item.iter_markers("owasp"):
            assert len(mark.args) == 1 and mark.args[0] in ITEMS, (item.nodeid, mark.args)
    names = {where.rpartition("::")[2] for places in found.values() for where in places}
    for item in collected:
        assert item.originalname in names, f"{item.nodeid} is marked owasp but the static count missed it"


def test_the_static_count_sees_marks_and_rejects_a_bad_one(tmp_path, monkeypatch):
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        '@pytest.mark.owasp("API4")\ndef test_good():\n    pass\n\n'
        '@pytest.mark.owasp("API11")\ndef test_bad():\n    pass\n'
    )
    (tmp_path / "test_module.py").write_text(
        'import pytest\n\npytestmark = [pytest.mark.slow, pytest.mark.owasp("API8")]\n\n'
        "def test_one():\n    pass\n\ndef helper():\n    pass\n"
    )
    monkeypatch.setitem(globals(), "TESTS", tmp_path)

    found, malformed = owasp_marks()

    assert dict(found) == {
        "API4": [f"{tmp_path.name}/test_sample.py::test_good"],
        "API8": [f"{tmp_path.name}/test_module.py::test_one"],
    }
    assert malformed == [f"{tmp_path.name}/test_sample.py::test_bad: owasp('API11',)"]
