"""One exception root: every public exception class of the package derives from HubSpotLoaderError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import hubspot_loader
from hubspot_loader import HubSpotLoaderError


def _public_exception_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for info in pkgutil.walk_packages(hubspot_loader.__path__, "hubspot_loader."):
        if ".sandbox" in info.name or info.name.endswith("__main__"):  # the sandbox has its own errors
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found.append(value)
    return found


def test_every_public_exception_has_the_one_root_and_says_if_retryable() -> None:
    classes = _public_exception_classes()
    assert len(classes) >= 10  # the walk found the package's errors
    outside = [c.__qualname__ for c in classes if not issubclass(c, HubSpotLoaderError)]
    assert outside == []
    # a class attribute, or a property where it depends on the answer (the rate-limit policy)
    assert all(isinstance(c.retryable, (bool, property)) for c in classes)  # type: ignore[attr-defined]


def test_the_root_is_exported_with_the_documented_errors() -> None:
    for name in ("LoadAborted", "DataValidationError", "PreflightError", "LoadUsageError", "HubSpotError"):
        assert issubclass(getattr(hubspot_loader, name), HubSpotLoaderError)
