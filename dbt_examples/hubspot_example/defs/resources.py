"""The loads' ``hubspot`` resource: the local sandbox, unless ``HUBSPOT_TARGET=hubspot`` (``target.py``)."""

import dagster as dg

from hubspot_example.target import hubspot_target


@dg.definitions
def resources() -> dg.Definitions:
    """The loads' resource, chosen from the environment when the code location loads."""
    return dg.Definitions(resources={"hubspot": hubspot_target()})
