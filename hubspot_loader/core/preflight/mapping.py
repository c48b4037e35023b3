"""The load's configuration as preflight checks it: the column → property mapping and the key column."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from hubspot_loader.core.preflight.cells import FrameData
from hubspot_loader.core.preflight.codes import (
    COLUMN_NOT_IN_FRAME,
    DUPLICATE_MAPPING,
    PROPERTY_DOESNT_EXIST,
    READ_ONLY_VALUE,
)
from hubspot_loader.core.preflight.properties import PropertyDefinition, closest_properties
from hubspot_loader.core.preflight.report import BlockingProblem

_LISTED_COLUMNS = 30
"""How many of the frame's columns a "not in the frame" message lists."""


def frame_names(df: pd.DataFrame) -> str:
    """Return the frame's column names for a message (the first 30)."""
    names = ", ".join(repr(c) for c in df.columns[:_LISTED_COLUMNS])
    more = len(df.columns) - _LISTED_COLUMNS
    return names + (f" and {more} more" if more > 0 else "")


def mapping_problems(
    mapping: Mapping[Any, str], frame: FrameData, props: Mapping[str, PropertyDefinition], object_type: str
) -> tuple[list[BlockingProblem], dict[str, str]]:
    """Check the column → property mapping; return its blocking problems and the usable mapping.

    The usable mapping names the columns as text (``0`` → ``"0"``).
    """
    blocking: list[BlockingProblem] = []
    mapped: dict[str, str] = {}
    seen: dict[str, str] = {}
    for column, prop_name in mapping.items():
        label = frame.resolve(column)
        name = str(column)
        if label is None:
            message = f"column {column!r} is not in the frame; it has {frame_names(frame.df)}"
            blocking.append(BlockingProblem(COLUMN_NOT_IN_FRAME, message, name, prop_name))
            continue
        if prop_name in seen:
            message = f"columns {seen[prop_name]!r} and {name!r} both map to property {prop_name!r}"
            blocking.append(BlockingProblem(DUPLICATE_MAPPING, message, name, prop_name))
            continue
        seen[prop_name] = name
        mapped[label] = prop_name
        blocking.extend(_property_problem(name, prop_name, props, object_type))
    return blocking, mapped


def _property_problem(
    column: str, prop_name: str, props: Mapping[str, PropertyDefinition], object_type: str
) -> list[BlockingProblem]:
    prop = props.get(prop_name)
    if prop is None:
        close = closest_properties(prop_name, props)
        hint = (
            f"closest existing properties: {', '.join(repr(c) for c in close)}"
            if close
            else "no existing property has a similar name"
        )
        message = (
            f"column {column!r} is mapped to property {prop_name!r}, which does not exist on "
            f"{object_type}; {hint}"
        )
        return [
            BlockingProblem(PROPERTY_DOESNT_EXIST, message, column, prop_name, tuple(close), per_row=True)
        ]
    if prop.read_only:
        message = (
            f"column {column!r} is mapped to property {prop_name!r}, which is read-only on {object_type} "
            "(calculated or set by HubSpot); its values cannot be set"
        )
        return [BlockingProblem(READ_ONLY_VALUE, message, column, prop_name, per_row=True)]
    return []
