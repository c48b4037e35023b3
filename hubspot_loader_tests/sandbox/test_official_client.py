"""Acceptance: the official ``hubspot-api-client`` (PyPI) parses every sandbox answer."""

from __future__ import annotations

import json

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.objects import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchResponseSimplePublicObject,
    BatchResponseSimplePublicObjectWithErrors,
)
from hubspot.crm.objects.exceptions import ForbiddenException, UnauthorizedException

from hubspot_loader.sandbox import SandboxHandle, TokenConfig
from hubspot_loader_tests.sandbox.helpers import Factory


def client(sb: SandboxHandle, token: str | None = None, strict: bool = True) -> HubSpot:
    return HubSpot(
        access_token=token or sb.token, host=sb.base_url, base_url=sb.base_url, client_side_validation=strict
    )


def batch(*inputs: dict[str, object]) -> BatchInputSimplePublicObjectBatchInputForCreate:
    return BatchInputSimplePublicObjectBatchInputForCreate(inputs=list(inputs))


def test_batch_create_parses_strictly(sandbox: SandboxHandle) -> None:
    hs = client(sandbox)
    company = hs.crm.objects.batch_api.create(
        object_type="companies",
        batch_input_simple_public_object_batch_input_for_create=batch({"properties": {"name": "Acme"}}),
    )
    assert isinstance(company, BatchResponseSimplePublicObject)
    company_id = company.results[0].id
    resp = hs.crm.contacts.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create=batch(
            {
                "properties": {"email": "a@example.com"},
                "objectWriteTraceId": "t1",
                "associations": [
                    {
                        "to": {"id": company_id},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                    }
                ],
            },
            {"properties": {"email": "b@example.com"}, "objectWriteTraceId": "t2", "associations": []},
        )
    )
    assert type(resp).__name__ == "BatchResponseSimplePublicObject"
    assert resp.status == "COMPLETE" and resp.completed_at is not None
    assert sorted(r.properties["email"] for r in resp.results) == ["a@example.com", "b@example.com"]
    assert {r.object_write_trace_id for r in resp.results} == {"t1", "t2"}
    assert all(isinstance(r.id, str) for r in resp.results)


def test_partial_failure_parses_to_with_errors_model(sandbox: SandboxHandle) -> None:
    resp = client(sandbox, strict=False).crm.objects.batch_api.create(
        object_type="contacts",
        batch_input_simple_public_object_batch_input_for_create=batch(
            {"properties": {"email": "ok@example.com"}, "objectWriteTraceId": "t1"},
            {"properties": {"email": "ok2@example.com", "nope": "x"}, "objectWriteTraceId": "t2"},
        ),
    )
    assert isinstance(resp, BatchResponseSimplePublicObjectWithErrors)
    assert resp.num_errors == 1
    assert resp.errors[0].context == {"objectWriteTraceId": ["t2"]}
    assert "PROPERTY_DOESNT_EXIST" in resp.errors[0].message
    assert [r.object_write_trace_id for r in resp.results] == ["t1"]


def test_conflict_raises_with_hubspot_body(sandbox: SandboxHandle) -> None:
    hs = client(sandbox)
    body = batch({"properties": {"email": "dup@example.com"}})
    first = hs.crm.contacts.batch_api.create(batch_input_simple_public_object_batch_input_for_create=body)
    with pytest.raises(ContactsApiException) as excinfo:
        hs.crm.contacts.batch_api.create(batch_input_simple_public_object_batch_input_for_create=body)
    assert excinfo.value.status == 409
    error = json.loads(excinfo.value.body)
    assert error["category"] == "CONFLICT"
    assert error["message"] == f"Contact already exists. Existing ID: {first.results[0].id}"


def test_401_and_403_raise_client_exceptions(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(
        tokens=(TokenConfig("full"), TokenConfig("ro", frozenset({"crm.objects.contacts.read"})))
    )
    body = batch({"properties": {"email": "a@example.com"}})
    with pytest.raises(UnauthorizedException) as unauthorized:
        client(sb, token="bogus").crm.objects.batch_api.create(
            object_type="contacts", batch_input_simple_public_object_batch_input_for_create=body
        )
    assert json.loads(unauthorized.value.body)["category"] == "INVALID_AUTHENTICATION"
    assert unauthorized.value.headers["X-HubSpot-Auth-Failure"] == "401 Unauthorized"
    with pytest.raises(ForbiddenException) as forbidden:
        client(sb, token="ro").crm.objects.batch_api.create(
            object_type="contacts", batch_input_simple_public_object_batch_input_for_create=body
        )
    assert json.loads(forbidden.value.body)["category"] == "MISSING_SCOPES"
    assert isinstance(forbidden.value, ApiException)


def test_properties_and_labels_apis_parse_strictly(sandbox: SandboxHandle) -> None:
    hs = client(sandbox)
    props = hs.crm.properties.core_api.get_all(object_type="contacts")
    by_name = {p.name: p for p in props.results}
    assert by_name["email"].has_unique_value is True
    assert by_name["lifecyclestage"].options[0].value == "subscriber"
    assert by_name["hs_object_id"].modification_metadata.read_only_value is True
    labels = hs.crm.associations.v4.schema.definitions_api.get_all(
        from_object_type="contacts", to_object_type="companies"
    )
    assert [(label.type_id, label.label, label.category) for label in labels.results] == [
        (1, "Primary", "HUBSPOT_DEFINED"),
        (279, None, "HUBSPOT_DEFINED"),
    ]


def test_reads_upsert_and_search_parse_strictly(sandbox: SandboxHandle) -> None:
    from hubspot.crm.contacts import (
        BatchInputSimplePublicObjectBatchInputUpsert,
        BatchReadInputSimplePublicObjectId,
        PublicObjectSearchRequest,
    )

    hs = client(sandbox)
    upserted = hs.crm.contacts.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[{"id": "a@example.com", "idProperty": "email", "properties": {"firstname": "A"}}]
        )
    )
    assert upserted.results[0].new is True
    contact_id = upserted.results[0].id
    read = hs.crm.contacts.batch_api.read(
        batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
            inputs=[{"id": contact_id}], properties=["firstname"], properties_with_history=[]
        )
    )
    assert read.results[0].properties["firstname"] == "A"
    one = hs.crm.contacts.basic_api.get_by_id(contact_id=contact_id, properties=["email"])
    assert one.properties["email"] == "a@example.com"
    found = hs.crm.contacts.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": "a@example.com"}]}
            ]
        )
    )
    assert found.total == 1 and found.results[0].id == contact_id


def test_api_request_reaches_2026_03_paths(sandbox: SandboxHandle) -> None:
    resp = client(sandbox).api_request(
        {
            "method": "POST",
            "path": "/crm/objects/2026-03/contacts/batch/create",
            "body": {"inputs": [{"properties": {"email": "a@example.com"}}]},
        }
    )
    assert resp.status_code == 201 and resp.json()["status"] == "COMPLETE"


def _company(hs: HubSpot) -> str:
    from hubspot.crm.companies import SimplePublicObjectInputForCreate

    created = hs.crm.companies.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(properties={"name": "Acme"})
    )
    return str(created.id)


def test_single_object_endpoints_parse_strictly(sandbox: SandboxHandle) -> None:
    from hubspot.crm.contacts import (
        SimplePublicObject,
        SimplePublicObjectInput,
        SimplePublicObjectInputForCreate,
        SimplePublicObjectWithAssociations,
    )
    from hubspot.crm.contacts.exceptions import NotFoundException

    hs = client(sandbox)
    company_id = _company(hs)
    link = {
        "to": {"id": company_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    }
    created = hs.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"email": "a@example.com"}, associations=[link]
        )
    )
    assert isinstance(created, SimplePublicObject) and created.properties["email"] == "a@example.com"
    got = hs.crm.contacts.basic_api.get_by_id(
        contact_id=created.id, properties=["email", "never_defined"], associations=["companies"]
    )
    assert isinstance(got, SimplePublicObjectWithAssociations)
    assert "never_defined" not in got.properties
    assert {a.id for a in got.associations["companies"].results} == {company_id}
    page = hs.crm.contacts.basic_api.get_page(limit=1, associations=["companies"])
    assert [r.id for r in page.results] == [created.id] and page.paging is None
    updated = hs.crm.contacts.basic_api.update(
        contact_id=created.id,
        simple_public_object_input=SimplePublicObjectInput(properties={"lastname": "Y"}),
    )
    assert updated.properties["lastname"] == "Y"
    assert hs.crm.contacts.basic_api.archive(contact_id=created.id) is None
    with pytest.raises(NotFoundException) as missing:
        hs.crm.contacts.basic_api.get_by_id(contact_id=created.id)
    assert json.loads(missing.value.body)["category"] == "OBJECT_NOT_FOUND"


def test_batch_update_archive_and_multi_status_reads_parse(sandbox: SandboxHandle) -> None:
    from hubspot.crm.contacts import (
        BatchInputSimplePublicObjectBatchInput,
        BatchInputSimplePublicObjectBatchInputUpsert,
        BatchInputSimplePublicObjectId,
        BatchReadInputSimplePublicObjectId,
        BatchResponseSimplePublicObjectWithErrors,
        BatchResponseSimplePublicUpsertObjectWithErrors,
    )

    hs = client(sandbox)
    created = hs.crm.contacts.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create=batch(
            {"properties": {"email": "a@example.com"}}
        )
    )
    cid = created.results[0].id
    updated = hs.crm.contacts.batch_api.update(
        batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": cid, "properties": {"firstname": "Z"}}]
        )
    )
    assert type(updated).__name__ == "BatchResponseSimplePublicObject"
    assert updated.results[0].properties["firstname"] == "Z"
    lenient = client(sandbox, strict=False)
    partial_read = lenient.crm.contacts.batch_api.read(
        batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
            inputs=[{"id": cid}, {"id": "999"}], properties=[], properties_with_history=[]
        )
    )
    assert isinstance(partial_read, BatchResponseSimplePublicObjectWithErrors)
    assert partial_read.errors[0].context == {"ids": ["999"]}
    partial_upsert = lenient.crm.contacts.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                {"id": "b@example.com", "idProperty": "email", "properties": {}, "objectWriteTraceId": "u1"},
                {"id": "broken", "idProperty": "email", "properties": {}, "objectWriteTraceId": "u2"},
            ]
        )
    )
    assert isinstance(partial_upsert, BatchResponseSimplePublicUpsertObjectWithErrors)
    assert partial_upsert.results[0].new is True
    archived = hs.crm.contacts.batch_api.archive(
        batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(inputs=[{"id": cid}])
    )
    assert archived is None and sandbox.counts()["contacts"] == 1


def test_property_create_and_read_parse_strictly(sandbox: SandboxHandle) -> None:
    from hubspot.crm.properties import ApiException as PropertiesApiException
    from hubspot.crm.properties import ModelProperty, PropertyCreate

    hs = client(sandbox)
    body = PropertyCreate(
        name="loyalty_tier",
        label="Loyalty tier",
        type="enumeration",
        field_type="select",
        group_name="contactinformation",
        options=[{"label": "Gold", "value": "gold", "hidden": False, "displayOrder": 0}],
    )
    created = hs.crm.properties.core_api.create(object_type="contacts", property_create=body)
    assert isinstance(created, ModelProperty)
    assert created.group_name == "contactinformation" and created.options[0].value == "gold"
    read = hs.crm.properties.core_api.get_by_name(object_type="contacts", property_name="loyalty_tier")
    assert read.to_dict() == created.to_dict()
    with pytest.raises(PropertiesApiException) as refused:
        hs.crm.properties.core_api.create(object_type="contacts", property_create=body)
    assert refused.value.status == 409
    with pytest.raises(PropertiesApiException) as missing:
        hs.crm.properties.core_api.get_by_name(object_type="contacts", property_name="never_defined")
    assert missing.value.status == 404


def test_association_reads_parse_strictly_and_2026_03_paths_answer(sandbox: SandboxHandle) -> None:
    from hubspot.crm.contacts import SimplePublicObjectInputForCreate

    hs = client(sandbox)
    company_id = _company(hs)
    link = {
        "to": {"id": company_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    }
    cid = hs.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"email": "a@example.com"}, associations=[link]
        )
    ).id
    page = hs.crm.associations.v4.basic_api.get_page(
        object_type="contacts", object_id=cid, to_object_type="companies"
    )
    assert [r.to_object_id for r in page.results] == [company_id]
    assert sorted(t.type_id for t in page.results[0].association_types) == [1, 279]
    dated = hs.api_request(
        {"method": "GET", "path": f"/crm/objects/2026-03/contacts/{cid}/associations/companies"}
    )
    assert dated.status_code == 200 and dated.json()["results"][0]["toObjectId"] == int(company_id)
    prop = hs.api_request(
        {
            "method": "POST",
            "path": "/crm/properties/2026-03/contacts",
            "body": {
                "name": "renewal_date",
                "label": "Renewal date",
                "type": "date",
                "fieldType": "date",
                "groupName": "contactinformation",
            },
        }
    )
    assert prop.status_code == 201
    assert prop.headers["Location"] == "https://api.hubapi.com/crm/properties/2026-03/contacts/renewal_date"
    details = hs.api_request({"method": "GET", "path": "/account-info/v3/details"})
    assert details.status_code == 200 and details.json()["portalId"] == 12345678


def test_validation_errors_raise_with_hubspot_body(sandbox: SandboxHandle) -> None:
    hs = client(sandbox)
    with pytest.raises(ApiException) as invalid:
        hs.crm.objects.batch_api.create(
            object_type="contacts",
            batch_input_simple_public_object_batch_input_for_create=batch({"properties": {"email": "nope"}}),
        )
    assert invalid.value.status == 400
    body = json.loads(invalid.value.body)
    assert body["category"] == "VALIDATION_ERROR"
    assert body["errors"][0]["code"] == "INVALID_EMAIL"
    assert body["correlationId"] == invalid.value.headers["X-HubSpot-Correlation-Id"]
