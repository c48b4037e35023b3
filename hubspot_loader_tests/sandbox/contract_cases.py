"""The contract test's cases for the associations API (labels, record reads, batch writes and reads).

``Case`` is one request and the answer HubSpot's contract says it gets; ``test_contract.py`` holds the
object and property cases and runs them all. Paths, bodies and ``{placeholders}`` as there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LABELS = ("/crm/v4/associations", "/crm/associations/v4", "/crm/associations/2026-03")
ASSOCIATION_READS = ("/crm/v4/objects", "/crm/objects/2026-03")
ACCOUNT = ("/account-info/v3", "/account-info/2026-03")
ASSOCIATION_BATCHES = ("/crm/v4/associations", "/crm/associations/2026-03")


@dataclass(frozen=True)
class Case:
    """One request and the answer HubSpot's contract says it gets."""

    name: str
    method: str
    template: str
    path: str
    status: int
    schema: str | None
    body: Any = None
    raw: bytes | None = None
    token: str | None = "sandbox-token"
    headers: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    repeat_first: int = 0

    @property
    def error(self) -> bool:
        """Whether the answer is an error body (``Error`` or the rate-limit body)."""
        return self.status >= 400


def association_cases() -> list[Case]:
    cases: list[Case] = []
    for prefix in LABELS:
        template = f"{prefix}/{{fromObjectType}}/{{toObjectType}}/labels"
        cases.append(
            Case(
                "labels",
                "GET",
                template,
                f"{prefix}/contacts/companies/labels",
                200,
                "CollectionResponseAssociationSpecWithLabelNoPaging",
            )
        )
        cases.append(Case("labels 400", "GET", template, f"{prefix}/contacts/widgets/labels", 400, "Error"))
    for prefix in ASSOCIATION_READS:
        template = f"{prefix}/{{objectType}}/{{objectId}}/associations/{{toObjectType}}"
        read = f"{prefix}/contacts/{{contact}}/associations"
        schema_name = "CollectionResponseMultiAssociatedObjectWithLabelForwardPaging"
        cases.append(Case("association read", "GET", template, f"{read}/companies", 200, schema_name))
        cases.append(
            Case(
                "association read 404",
                "GET",
                template,
                f"{prefix}/contacts/{{missing}}/associations/companies",
                404,
                "Error",
            )
        )
        cases.append(Case("association read 400", "GET", template, f"{read}/widgets", 400, "Error"))
    for prefix in ACCOUNT:
        template = f"{prefix}/details"
        cases.append(Case("account details", "GET", template, template, 200, "PortalInformationResponse"))
        cases.append(Case("account details 401", "GET", template, template, 401, "Error", token="wrong"))
    return cases


def association_batch_cases(prefix: str) -> list[Case]:
    template = f"{prefix}/{{fromObjectType}}/{{toObjectType}}/batch"
    path = f"{prefix}/contacts/companies/batch"

    def op(name: str, operation: str, status: int, schema_name: str | None, body: Any, **kw: Any) -> Case:
        return Case(
            name, "POST", f"{template}/{operation}", f"{path}/{operation}", status, schema_name, body, **kw
        )

    spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
    pair = {"from": {"id": "{contact2}"}, "to": {"id": "{company}"}}
    create = {"inputs": [{**pair, "types": [spec]}]}
    gone = {
        "inputs": [
            {**pair, "types": [spec]},
            {"from": {"id": "{missing}"}, "to": {"id": "{company}"}, "types": [spec]},
        ]
    }
    wrong_type = {
        "inputs": [{**pair, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]}]
    }
    archive = {"inputs": [{"from": {"id": "{contact}"}, "to": [{"id": "{company}"}]}]}
    labels = {"inputs": [{"from": {"id": "{contact}"}, "to": {"id": "{company}"}, "types": [spec]}]}
    archived = 204 if prefix.startswith("/crm/v4") else 200
    archived_schema = None if archived == 204 else "BatchResponse"
    read = {"inputs": [{"id": "{contact}"}]}
    return [
        op("association batch create", "create", 201, "BatchResponseLabelsBetweenObjectPair", create),
        op(
            "association batch create missing record",
            "create",
            207,
            "BatchResponseLabelsBetweenObjectPairWithInvalidRecords",
            gone,
        ),
        op(
            "association batch create wrong type",
            "create",
            207,
            "BatchResponseLabelsBetweenObjectPairWithErrors",
            wrong_type,
        ),
        op("association batch create malformed", "create", 400, "Error", {"inputs": [pair]}),
        op("association batch create 403", "create", 403, "Error", create, token="deals-only"),
        op("association batch create 401", "create", 401, "Error", create, token=None),
        op(
            "association batch default",
            "associate/default",
            200,
            "BatchResponsePublicDefaultAssociation",
            {"inputs": [pair]},
        ),
        op(
            "association batch default missing record",
            "associate/default",
            200,
            "BatchResponsePublicDefaultAssociationWithInvalidRecords",
            {"inputs": [{"from": {"id": "{missing}"}, "to": {"id": "{company}"}}]},
        ),
        op("association batch default 400", "associate/default", 400, "Error", {"inputs": [{"from": "x"}]}),
        op("association batch archive", "archive", archived, archived_schema, archive),
        op("association batch archive 400", "archive", 400, "Error", {"inputs": [{"from": {"id": "1"}}]}),
        op("association batch labels archive", "labels/archive", archived, archived_schema, labels),
        op(
            "association batch labels archive 400",
            "labels/archive",
            400,
            "Error",
            {"inputs": [{"to": {"id": "1"}}]},
        ),
        op("association batch read", "read", 200, "BatchResponsePublicAssociationMultiWithLabel", read),
        op(
            "association batch read no associations",
            "read",
            207,
            "BatchResponsePublicAssociationMultiWithLabelWithNoAssociations",
            {"inputs": [{"id": "{contact2}"}]},
        ),
        op("association batch read 400", "read", 400, "Error", {"x": 1}),
    ]
