"""The read-only HTML overview served at ``/``: object counts and the latest objects per type."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hubspot_loader.sandbox.handlers import SandboxApp

LATEST = 20
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#213343}
table{border-collapse:collapse;margin-bottom:1.5rem}td,th{border:1px solid #cbd6e2;padding:.25rem .5rem;
text-align:left;vertical-align:top;font-size:.9rem}th{background:#f5f8fa}code{font-size:.85rem}
"""


def render_page(app: SandboxApp) -> str:
    """Render the overview (counts, request counters and the latest objects with associations)."""
    counts = app.store.counts()
    counters = app.counters.snapshot()
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>HubSpot sandbox</title>",
        f"<style>{_STYLE}</style></head><body><h1>HubSpot sandbox</h1>",
        f"<p>Portal <code>{app.config.portal_id}</code>. CRM requests: {counters['requests']}, "
        f"writes: {counters['write_requests']}, by status: <code>{escape(str(counters['by_status']))}"
        "</code>. JSON: <a href='/__sandbox__/counts'>counts</a>, "
        "<a href='/__sandbox__/counters'>counters</a>."
        "</p>",
        "<h2>Object counts</h2><table><tr><th>Object type</th><th>Type id</th><th>Count</th></tr>",
    ]
    for obj in app.catalog.types.values():
        parts.append(
            f"<tr><td>{escape(obj.name)}</td><td>{escape(obj.type_id)}</td>"
            f"<td>{counts.get(obj.name, 0)}</td></tr>"
        )
    parts.append("</table>")
    for obj in app.catalog.types.values():
        if not counts.get(obj.name):
            continue
        latest = app.store.all(obj)[-LATEST:][::-1]
        parts.append(
            f"<h2>Latest {escape(obj.name)}</h2><table><tr><th>id</th><th>properties</th>"
            "<th>associations</th><th>createdAt</th></tr>"
        )
        for stored in latest:
            view = app.inspect_object(obj, stored)
            props = "<br>".join(
                f"{escape(k)}: {escape(v)}"
                for k, v in sorted(view["properties"].items())
                if not k.startswith("hs_object_source")
            )
            assocs = "<br>".join(
                f"{escape(a['toObjectType'])} {escape(a['toObjectId'])} "
                f"(types {escape(', '.join(str(t) for t in a['associationTypeIds']))})"
                for a in view["associations"]
            )
            parts.append(
                f"<tr><td>{escape(view['id'])}</td><td>{props}</td><td>{assocs}</td>"
                f"<td>{escape(view['createdAt'])}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)
