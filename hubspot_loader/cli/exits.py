"""Exit codes of ``hubspot-loader load`` and the one error type the command's checks raise."""

from __future__ import annotations

from hubspot_loader.errors import HubSpotLoaderError

EXIT_OK = 0
"""Every row was created, or skipped because an earlier run created it."""
EXIT_ROWS_FAILED = 1
"""Some rows were rejected (by preflight, by conversion or by HubSpot); the others loaded."""
EXIT_USAGE = 2
"""A usage or configuration error: nothing was sent."""
EXIT_STOPPED = 3
"""The load stopped: authentication, missing scope, the daily limit, or HubSpot could not be reached."""
EXIT_INTERRUPTED = 130
"""Ctrl-C (the shell's convention, 128 + SIGINT)."""

EXIT_CODES_HELP = f"""\
exit codes:
  {EXIT_OK}  every row was created, or skipped because an earlier run created it
  {EXIT_ROWS_FAILED}  some rows were rejected (each with its reason in FILE.failed.csv); the rest loaded
  {EXIT_USAGE}  usage or configuration error (bad option, unknown object type, a column or property
     that does not exist, unreadable file, no token); nothing was sent
  {EXIT_STOPPED}  the load stopped: the token was refused (401) or lacks a scope (403), HubSpot's daily
     limit was reached, or HubSpot could not be reached; rows created before the stop are kept
"""


class UsageError(HubSpotLoaderError):
    """A mistake in the command or its inputs, found before anything was sent.

    ``str(error)`` is the one line shown to the user (what is wrong and what to do); ``exit_code`` is
    :data:`EXIT_USAGE` unless another code is given.
    """

    def __init__(self, message: str, *, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code
