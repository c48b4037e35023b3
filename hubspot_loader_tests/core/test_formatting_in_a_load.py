"""Issue #11 through the real path: cells that crashed or were corrupted now load exactly or fail their row.

``load_dataframe`` over HTTP into the sandbox; the stored values are read back from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from hubspot_loader.core.model import CREATED, FAILED
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, load_dataframe
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.loader.conftest import loader_config

HUGE = 10**4300 + 7  # 4,301 digits: str() refuses it by default


def test_hostile_datetimes_and_huge_ints_load_exactly_or_fail_only_their_row(
    sandbox_factory: Callable[..., SandboxHandle],
) -> None:
    hub = sandbox_factory(config=loader_config())
    frame = pd.DataFrame(
        {
            "key": ["k0", "k1", "k2", "k3", "k4"],
            "email": [f"p{i}@example.com" for i in range(5)],
            "last_seen_local": pd.Series(
                [
                    dt.datetime(210, 2, 26, 3, 54, 57),  # aborted the load before
                    dt.datetime(9999, 12, 31, 23, 30),  # New York: already year 10000 in UTC
                    dt.datetime(2026, 3, 8, 2, 30),  # skipped by the clocks in New York
                    dt.datetime(2050, 7, 1, 12),  # daylight time (pytz said EST)
                    None,
                ],
                dtype=object,
            ),
            "signed_up_at": pd.Series(
                np.array(
                    ["9999-12-31", "2026-01-01", "2026-01-01", "0001-01-01", "1654-03-01"], "datetime64[us]"
                )
            ).dt.tz_localize("UTC"),
            "employee_number": pd.Series([HUGE, 1, 2, 3, -HUGE], dtype=object),
        }
    )
    with HubSpotClient(hub.token, base_url=hub.base_url) as client:
        spec = HubSpotLoadSpec(
            object_type="contacts", key_column="key", naive_timezone="America/New_York", preflight="off"
        )
        result = load_dataframe(frame, spec, client=client)
    statuses = {r.key: r.status for r in result.rows}
    assert statuses == {"k0": CREATED, "k1": FAILED, "k2": FAILED, "k3": CREATED, "k4": CREATED}
    for key, reason in [("k1", "is outside the range sent to HubSpot"), ("k2", "does not exist in")]:
        [row] = [r for r in result.rows if r.key == key]
        assert row.error is not None and row.error.property == "last_seen_local", row.error
        assert reason in row.error.message and "America/New_York" in row.error.message
    stored = {}
    for row in result.rows:
        if row.status == CREATED:
            obj = hub.get_object("contacts", str(row.hubspot_id))
            assert obj is not None
            stored[row.key] = obj["properties"]
    assert stored["k0"]["last_seen_local"] == "0210-02-26T08:50:59.000Z"  # LMT -04:56:02
    assert stored["k0"]["signed_up_at"] == "9999-12-31T00:00:00.000Z"  # not 1816
    assert stored["k0"]["employee_number"] == "1" + "0" * 4299 + "7"
    assert stored["k3"]["last_seen_local"] == "2050-07-01T16:00:00.000Z"
    assert stored["k3"]["signed_up_at"] == "0001-01-01T00:00:00.000Z"  # not 1754
    assert stored["k4"]["signed_up_at"] == "1654-03-01T00:00:00.000Z"
    assert stored["k4"]["employee_number"] == "-1" + "0" * 4299 + "7"
    assert stored["k4"].get("last_seen_local") in (None, "")
