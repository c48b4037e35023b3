"""The user's pandera schema as a step of :func:`~hubspot_loader.load.load_dataframe`.

The schema runs on the frame as given, before anything is sent; a frame that fails it, or on which it
cannot run, raises :class:`DataValidationError` (re-exported by :mod:`hubspot_loader.load`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from hubspot_loader.core.schemas import ValidationEntry, ValidationReport, validate_frame
from hubspot_loader.core.stops import one_line
from hubspot_loader.errors import HubSpotLoaderError

if TYPE_CHECKING:
    import pandera.pandas as pa


class DataValidationError(HubSpotLoaderError, ValueError):
    """The frame failed its pandera schema; nothing was sent.

    ``report`` holds one entry per failing (row key, column, check); ``str(error)`` names them;
    ``rows_failed`` counts the distinct rows that failed (0 when only frame-wide checks did).
    """

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(report.message)
        self.report = report

    @property
    def rows_failed(self) -> int:
        """Distinct rows with at least one failure."""
        return self.report.failed_rows


def validated(
    df: pd.DataFrame, schema: pa.DataFrameSchema | type[pa.DataFrameModel], key_column: str | None
) -> pd.DataFrame:
    """Run the user's schema on the frame as given (before anything is sent); return the coerced frame.

    ``key_column`` names the rows in the report (matched as text against the frame's labels).

    Raises:
        DataValidationError: the frame failed the schema, or the schema raised on it.

    """
    label = next((c for c in df.columns if str(c) == str(key_column)), None) if key_column else None
    try:
        report = validate_frame(df, schema, label)
    except Exception as exc:  # a check that raises on this frame, a schema pandera refuses ...
        check = one_line(f"the schema could not run on this frame ({type(exc).__name__}: {exc})")
        entry = ValidationEntry(key=None, position=None, column=None, check=check, failure_case=None)
        raise DataValidationError(ValidationReport(frame=df, entries=[entry])) from exc
    if not report.ok:
        raise DataValidationError(report)
    return report.frame
