"""Template variables of ``defs.yaml``: ``{{ read_model('hubspot_contacts') }}`` reads a dbt model's table."""

from collections.abc import Callable

import dagster as dg
import pandas as pd
from hubspot_example.warehouse import read_model as read_table


@dg.template_var
def read_model() -> Callable[[str], Callable[[dg.AssetExecutionContext], pd.DataFrame]]:
    """``read_model(name)``: a ``read_source`` that reads the model's table from DuckDB when the load runs."""

    def reader(model: str) -> Callable[[dg.AssetExecutionContext], pd.DataFrame]:
        def read(context: dg.AssetExecutionContext) -> pd.DataFrame:
            frame = read_table(model)
            context.log.info(f"read {len(frame)} rows from the warehouse model {model}")
            return frame

        return read

    return reader
