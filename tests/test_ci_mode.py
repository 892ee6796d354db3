"""tests/conftest.py: under CI=true a skip for a missing optional dependency fails; an empty parametrisation fails."""

from __future__ import annotations

from pathlib import Path

import pytest

CASES = '''
import pytest

absent = pytest.importorskip("no_such_module_causalbench_xyz") if {module_level} else None


def test_needs_a_missing_package():
    pytest.importorskip("no_such_module_causalbench_xyz")


@pytest.mark.skipif(True, reason="Chromium is not installed (Debian: apt-get install -y chromium)")
def test_needs_a_browser():
    pass


def test_needs_a_bundled_file():
    pytest.skip("pgmpy no longer ships asia.bif.gz")


def test_does_not_apply_to_this_case():
    pytest.skip("Copycat-v0 is a multi-step env with its own gymnasium class")
'''


@pytest.fixture
def strict_pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text())
    return pytester


@pytest.mark.parametrize("ci", ["true", ""])
def test_missing_dependencies_fail_only_in_ci(strict_pytester, monkeypatch, ci) -> None:
    monkeypatch.setenv("CI", ci)
    strict_pytester.makepyfile(CASES.format(module_level=False))
    result = strict_pytester.runpytest("-p", "no:cacheprovider")
    if ci:  # a skip in setup (a skipif mark) fails as an error, one in the test body as a failure
        result.assert_outcomes(failed=2, errors=1, skipped=1)
        result.stdout.fnmatch_lines(["*CI=true and an optional dependency is missing*"])
        assert result.ret != 0
    else:
        result.assert_outcomes(skipped=4)


def test_a_module_level_importorskip_is_a_collection_error_in_ci(strict_pytester, monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    strict_pytester.makepyfile(CASES.format(module_level=True))
    result = strict_pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert result.ret != 0


def test_an_empty_parametrisation_fails_everywhere(strict_pytester, monkeypatch) -> None:
    monkeypatch.setenv("CI", "")
    strict_pytester.makepyfile("""
import pytest

@pytest.mark.parametrize("env_id", [])
def test_nothing_to_check(env_id):
    assert env_id
""")
    result = strict_pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*a parametrised test with no parameters checks nothing*"])
    assert result.ret != 0


def test_the_dev_extra_installs_what_optional_dependency_tests_need() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    dev = {req.split(">")[0].split("=")[0].split("[")[0].strip() for req in extras["dev"]}
    assert {"pytest", "hypothesis", "jsonschema", "minari", "scikit-learn"} <= dev, dev
    ci = (root / ".ci" / "run").read_text()
    assert "export CI=true" in ci and "|| echo" not in ci  # a failed Chromium install fails CI
