"""The user's own pandera schema inside preflight: its failures, reported per row like the generated ones."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, cast

import pandas as pd
import pandera.pandas as pa

from hubspot_loader.core.preflight.codes import SCHEMA_ERROR
from hubspot_loader.core.preflight.report import BlockingProblem
from hubspot_loader.core.preflight.schema import merge_schemas
from hubspot_loader.core.schemas import validate_frame

Entry = tuple[int, str | None, str, str | None]
"""A failing (row position, column, check, failing value) of the user's schema."""


def user_schema_problems(
    df: pd.DataFrame, user: pa.DataFrameSchema, generated: Sequence[Hashable], key_column: str | None
) -> tuple[pd.DataFrame, list[Entry], list[BlockingProblem]]:
    """Validate ``df`` with the user's schema, merged with the generated columns (without their checks).

    The generated columns are part of the merged schema so that the user's schema-level settings (such as
    ``strict``) apply to the merged schema as with :func:`merge_schemas`; their checks are run by
    preflight itself. :func:`~hubspot_loader.core.schemas.validate_frame` reports every failure, also on data
    pandera cannot collect failure cases of as a whole.

    Returns:
        the frame as validated (coerced when every check of the user's passed, else ``df``), the failing
        rows and the failures that belong to no row (as ``SCHEMA_ERROR``).

    """
    bare = pa.DataFrameSchema(
        {c: pa.Column(None, nullable=True, required=True, name=cast(Any, c)) for c in generated}
    )
    report = validate_frame(df, merge_schemas(bare, user), key_column)
    entries: list[Entry] = []
    blocking: list[BlockingProblem] = []
    for entry in report.entries:
        if entry.position is None:
            where = f"column {entry.column!r}: " if entry.column is not None else ""
            value = f" ({entry.failure_case})" if entry.failure_case is not None else ""
            message = f"{where}check {entry.check} failed{value}"
            blocking.append(BlockingProblem(SCHEMA_ERROR, message, entry.column))
        else:
            entries.append((entry.position, entry.column, entry.check, entry.failure_case))
    return (report.frame if report.ok else df), entries, blocking
