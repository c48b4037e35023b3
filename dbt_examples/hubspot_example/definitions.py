"""The example's code location: ``dg dev`` (``make dev``), ``dg check defs`` and ``workspace.yaml`` load it.

The dbt component reads ``target/manifest.json`` as it is (``prepare_if_dev: false``), so the project is
parsed first when a project file changed (:func:`~hubspot_example.warehouse.prepare_warehouse`).
"""

from pathlib import Path

import dagster as dg

from hubspot_example.warehouse import prepare_warehouse

prepare_warehouse()

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
