"""Without Chromium the browser tests skip, except in CI, where they must fail rather than pass silently."""

import pytest

from . import conftest


def test_missing_chromium_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "find_chromium", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium at /usr/bin/chromium"):
        conftest.require_chromium()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="CI is not set"):
        conftest.require_chromium()


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_missing_chromium_fails_in_ci(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setattr(conftest, "find_chromium", lambda: None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="CI is set, so this is a failure"):
        conftest.require_chromium()


def test_found_chromium_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("playwright")
    monkeypatch.setattr(conftest, "find_chromium", lambda: "/opt/chromium/chrome")
    monkeypatch.setenv("CI", "true")
    assert conftest.require_chromium() == "/opt/chromium/chrome"
