"""The official ``hubspot-api-client`` 12 parses the sync endpoints' answers, success and error shapes.

Strict (``client_side_validation=True``) wherever HubSpot's real shape allows it; 207 bodies and error items
parse with validation off, because their items have neither ``errors`` nor ``links`` (``docs/sandbox.md``,
*Spec versus real answers*).
"""

from __future__ import annotations

import json

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    BatchResponseLabelsBetweenObjectPair,
    BatchResponseLabelsBetweenObjectPairWithErrors,
    BatchResponsePublicAssociationMultiWithLabel,
    BatchResponsePublicAssociationMultiWithLabelWithErrors,
    BatchResponsePublicDefaultAssociation,
)
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    BatchResponseSimplePublicObject,
    BatchResponseSimplePublicObjectWithErrors,
)

from hubspot_loader.sandbox import SandboxHandle

UNLABELED = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}


def client(sb: SandboxHandle, strict: bool = True) -> HubSpot:
    return HubSpot(
        access_token=sb.token, host=sb.base_url, base_url=sb.base_url, client_side_validation=strict
    )


def two_contacts_and_a_company(hs: HubSpot) -> tuple[str, str, str]:
    from hubspot.crm.companies import SimplePublicObjectInputForCreate

    made = hs.crm.contacts.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create=BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                {"properties": {"email": "a@example.com"}, "objectWriteTraceId": "a"},
                {"properties": {"email": "b@example.com"}, "objectWriteTraceId": "b"},
            ]
        )
    )
    by_trace = {r.object_write_trace_id: r.id for r in made.results}
    company = hs.crm.companies.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(properties={"name": "Acme"})
    )
    return by_trace["a"], by_trace["b"], str(company.id)


def test_batch_update_read_and_archive_parse(sandbox: SandboxHandle) -> None:
    hs = client(sandbox)
    first, second, _company = two_contacts_and_a_company(hs)
    updated = hs.crm.contacts.batch_api.update(
        batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": first, "properties": {"firstname": "A"}, "objectWriteTraceId": "t1"},
                {
                    "id": "B@example.com",
                    "idProperty": "email",
                    "properties": {"phone": ""},
                    "objectWriteTraceId": "t2",
                },
            ]
        )
    )
    assert isinstance(updated, BatchResponseSimplePublicObject)
    assert {r.id for r in updated.results} == {first, second}
    assert [r.object_write_trace_id for r in updated.results if r.id == first] == ["t1"]
    lenient = client(sandbox, strict=False)
    partial = lenient.crm.contacts.batch_api.update(
        batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": first, "properties": {}}, {"id": "999", "properties": {"firstname": "X"}}]
        )
    )
    assert isinstance(partial, BatchResponseSimplePublicObjectWithErrors)
    assert partial.errors[0].category == "OBJECT_NOT_FOUND" and partial.errors[0].context == {"ids": ["999"]}
    assert (
        hs.crm.contacts.batch_api.archive(
            batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(
                inputs=[{"id": second}, {"id": "999"}]
            )
        )
        is None
    )
    archived = hs.crm.contacts.batch_api.read(
        batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
            inputs=[{"id": "b@example.com"}],
            id_property="email",
            properties=["email"],
            properties_with_history=["email"],
        ),
        archived=True,
    )
    assert isinstance(archived, BatchResponseSimplePublicObject)
    assert archived.results[0].archived is True and archived.results[0].archived_at is not None
    assert archived.results[0].properties_with_history["email"][0].value == "b@example.com"


def test_duplicate_ids_raise_with_hubspots_body(sandbox: SandboxHandle) -> None:
    hs = client(sandbox)
    first, _second, _company = two_contacts_and_a_company(hs)
    with pytest.raises(ApiException) as refused:
        hs.crm.contacts.batch_api.update(
            batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
                inputs=[{"id": first, "properties": {}}, {"id": first, "properties": {}}]
            )
        )
    assert refused.value.status == 400
    body = json.loads(refused.value.body)
    assert body["context"] == {"ids": [first]} and body["category"] == "VALIDATION_ERROR"


def test_v4_association_batch_endpoints_parse(sandbox: SandboxHandle) -> None:
    hs = client(sandbox)
    first, second, company = two_contacts_and_a_company(hs)
    v4 = hs.crm.associations.v4.batch_api
    created = v4.create(
        "contacts",
        "companies",
        batch_input_public_association_multi_post=BatchInputPublicAssociationMultiPost(
            inputs=[{"from": {"id": first}, "to": {"id": company}, "types": [UNLABELED]}]
        ),
    )
    assert isinstance(created, BatchResponseLabelsBetweenObjectPair)
    assert (created.results[0].from_object_id, created.results[0].to_object_id) == (first, company)
    assert created.results[0].labels == []
    default = v4.create_default(
        "contacts",
        "companies",
        batch_input_public_default_association_multi_post=BatchInputPublicDefaultAssociationMultiPost(
            inputs=[{"from": {"id": second}, "to": {"id": company}}]
        ),
    )
    assert isinstance(default, BatchResponsePublicDefaultAssociation)
    assert {r.association_spec.association_type_id for r in default.results} == {279, 280}
    read = v4.get_page(
        "contacts",
        "companies",
        batch_input_public_fetch_associations_batch_request=BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[{"id": first}, {"id": second}]
        ),
    )
    assert isinstance(read, BatchResponsePublicAssociationMultiWithLabel)
    assert {r._from.id: r.to[0].to_object_id for r in read.results} == {first: company, second: company}
    archive = BatchInputPublicAssociationMultiArchive(
        inputs=[{"from": {"id": first}, "to": [{"id": company}]}]
    )
    assert v4.archive("contacts", "companies", batch_input_public_association_multi_archive=archive) is None
    labels = BatchInputPublicAssociationMultiPost(
        inputs=[{"from": {"id": second}, "to": {"id": company}, "types": [UNLABELED]}]
    )
    assert (
        v4.archive_labels("contacts", "companies", batch_input_public_association_multi_post=labels) is None
    )


def test_v4_association_errors_parse_without_validation(sandbox: SandboxHandle) -> None:
    first, _second, company = two_contacts_and_a_company(client(sandbox))
    v4 = client(sandbox, strict=False).crm.associations.v4.batch_api
    created = v4.create(
        "contacts",
        "companies",
        batch_input_public_association_multi_post=BatchInputPublicAssociationMultiPost(
            inputs=[
                {"from": {"id": first}, "to": {"id": company}, "types": [UNLABELED]},
                {"from": {"id": "999"}, "to": {"id": company}, "types": [UNLABELED]},
            ]
        ),
    )
    assert isinstance(created, BatchResponseLabelsBetweenObjectPairWithErrors)
    assert created.num_errors == 1 and created.errors[0].context["objectId"] == ["999"]
    read = v4.get_page(
        "contacts",
        "companies",
        batch_input_public_fetch_associations_batch_request=BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[{"id": "999"}]
        ),
    )
    assert isinstance(read, BatchResponsePublicAssociationMultiWithLabelWithErrors)
    assert read.errors[0].sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND"


def test_2026_03_association_batch_paths_answer(sandbox: SandboxHandle) -> None:
    hs = client(sandbox)
    first, _second, company = two_contacts_and_a_company(hs)
    base = "/crm/associations/2026-03/contacts/companies/batch"
    pair = {"from": {"id": first}, "to": {"id": company}, "types": [UNLABELED]}
    created = hs.api_request({"method": "POST", "path": f"{base}/create", "body": {"inputs": [pair]}})
    assert created.status_code == 201 and created.json()["results"][0]["toObjectId"] == int(company)
    removed = hs.api_request(
        {
            "method": "POST",
            "path": f"{base}/archive",
            "body": {"inputs": [{"from": {"id": first}, "to": [{"id": company}]}]},
        }
    )
    assert removed.status_code == 200 and removed.json()["status"] == "COMPLETE"
