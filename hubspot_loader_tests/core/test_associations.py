import pytest

from hubspot_loader.core.associations import (
    DEFAULT_ASSOCIATION_TYPES,
    UnknownAssociationError,
    default_association_type,
    normalize_object_type,
    resolve_association,
)
from hubspot_loader.core.model import AssociationColumn, ResolvedAssociation


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("contacts", "contacts"),
        ("contact", "contacts"),
        ("0-1", "contacts"),
        ("Company", "companies"),
        ("0-2", "companies"),
        ("deal", "deals"),
        ("0-3", "deals"),
        ("ticket", "tickets"),
        ("0-5", "tickets"),
        ("0-7", "products"),
        ("line_item", "line_items"),
        ("0-8", "line_items"),
        ("0-14", "quotes"),
        ("0-18", "communications"),
        ("0-27", "tasks"),
        ("0-46", "notes"),
        ("0-47", "meetings"),
        ("0-48", "calls"),
        ("0-49", "emails"),
        ("0-116", "postal_mail"),
        ("0-136", "leads"),
        ("p_vendor", "p_vendor"),
        ("2-123", "2-123"),
        ("p345_vendor", "p345_vendor"),
    ],
)
def test_normalize_object_type(name: str, canonical: str) -> None:
    assert normalize_object_type(name) == canonical


@pytest.mark.parametrize(
    ("pair", "type_id"),
    [
        (("contact", "company"), 279),
        (("companies", "contacts"), 280),
        (("deal", "company"), 341),
        (("0-2", "0-3"), 342),
        (("deals", "contacts"), 3),
        (("contacts", "deals"), 4),
        (("tickets", "contacts"), 16),
        (("contacts", "tickets"), 15),
        (("tickets", "companies"), 339),
        (("companies", "tickets"), 340),
        (("deals", "line_items"), 19),
        (("line_items", "deals"), 20),
        (("quotes", "deals"), 64),
        (("deals", "quotes"), 63),
        (("notes", "contacts"), 202),
        (("contacts", "notes"), 201),
        (("calls", "tickets"), 220),
        (("tickets", "calls"), 219),
        (("communications", "companies"), 87),
        (("postal_mail", "deals"), 457),
        (("deals", "postal_mail"), 458),
        (("leads", "contacts"), 608),
        (("contacts", "leads"), 609),
        (("companies", "companies"), 450),
    ],
)
def test_default_types_both_directions(pair: tuple[str, str], type_id: int) -> None:
    assert default_association_type(*pair) == type_id


def test_every_engagement_has_both_directions() -> None:
    for engagement in ("calls", "emails", "meetings", "notes", "tasks", "communications", "postal_mail"):
        for target in ("contacts", "companies", "deals", "tickets"):
            assert (engagement, target) in DEFAULT_ASSOCIATION_TYPES
            assert (target, engagement) in DEFAULT_ASSOCIATION_TYPES


def test_unknown_pair_lists_known_pairs() -> None:
    with pytest.raises(UnknownAssociationError) as info:
        default_association_type("contacts", "p_vendor")
    message = str(info.value)
    assert message.startswith("no default association type is known from 'contacts' to 'p_vendor'; give")
    assert "contacts→companies" in message
    assert isinstance(info.value, ValueError)


def test_explicit_type_id_wins() -> None:
    column = AssociationColumn("vendor_id", "p_vendor", type_id=77, category="USER_DEFINED")
    assert resolve_association("contacts", column, None, None) == ResolvedAssociation(
        "vendor_id", "p_vendor", 77, "USER_DEFINED", None
    )
    plain = AssociationColumn("company_id", "companies", type_id=1)
    assert resolve_association("contacts", plain, None, None).category == "HUBSPOT_DEFINED"


def test_default_used_and_id_map_attached() -> None:
    id_map = {"k1": "100"}
    column = AssociationColumn("company_key", "company", keys_from="companies_load")
    resolved = resolve_association("contact", column, None, id_map)
    assert resolved == ResolvedAssociation("company_key", "company", 279, "HUBSPOT_DEFINED", id_map)


LABELS = [
    {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
    {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
    {"category": "USER_DEFINED", "typeId": 1001, "label": "Billing Contact"},
]


def test_label_lookup_case_insensitive_with_its_category() -> None:
    column = AssociationColumn("company_id", "companies", label="billing contact")
    resolved = resolve_association("contacts", column, LABELS, None)
    assert (resolved.type_id, resolved.category) == (1001, "USER_DEFINED")
    primary = resolve_association(
        "contacts", AssociationColumn("c", "companies", label="PRIMARY"), LABELS, None
    )
    assert (primary.type_id, primary.category) == (1, "HUBSPOT_DEFINED")


def test_unknown_label_lists_available() -> None:
    column = AssociationColumn("company_id", "companies", label="Reseller")
    with pytest.raises(UnknownAssociationError) as info:
        resolve_association("contacts", column, LABELS, None)
    assert str(info.value) == (
        "association column 'company_id': label 'Reseller' is not defined from 'contacts' to "
        "'companies'; available labels: ['Billing Contact', 'Primary']"
    )


def test_label_without_labels_list() -> None:
    column = AssociationColumn("company_id", "companies", label="Billing contact")
    with pytest.raises(UnknownAssociationError, match="available labels: none"):
        resolve_association("contacts", column, None, None)


@pytest.mark.parametrize(
    ("from_type", "to_type", "type_id"),
    [("contacts", "companies", 1), ("0-3", "company", 5), ("companies", "contacts", 2)],
)
def test_primary_label_is_built_in_for_standard_pairs(from_type: str, to_type: str, type_id: int) -> None:
    column = AssociationColumn("c", to_type, label="Primary")
    resolved = resolve_association(from_type, column, None, None)
    assert (resolved.type_id, resolved.category) == (type_id, "HUBSPOT_DEFINED")


def test_primary_label_without_a_built_in_pair_still_needs_the_labels_api() -> None:
    with pytest.raises(UnknownAssociationError):
        resolve_association("p_vendor", AssociationColumn("c", "companies", label="Primary"), None, None)


def test_plan_resolves_labels_from_the_mapping_it_is_given_without_any_client() -> None:
    # plan is core: the load reads the labels (labels_to_read says which) and hands them over.
    from hubspot_loader.core.plan import labels_to_read, resolve_associations
    from hubspot_loader.errors import LoadUsageError

    columns = [
        AssociationColumn("boss", "contacts", label="Manager"),
        AssociationColumn("co", "companies", type_id=279),
        AssociationColumn("peer", "contacts", label="Peer"),
    ]
    assert labels_to_read(columns) == ["contacts"]
    labels = {
        "contacts": [
            {"category": "USER_DEFINED", "typeId": 7, "label": "Manager"},
            {"category": "USER_DEFINED", "typeId": 9, "label": "Peer"},
        ]
    }
    resolved = resolve_associations("contacts", columns, labels=labels)
    assert [(r.column, r.type_id, r.category) for r in resolved] == [
        ("boss", 7, "USER_DEFINED"),
        ("co", 279, "HUBSPOT_DEFINED"),
        ("peer", 9, "USER_DEFINED"),
    ]
    with pytest.raises(LoadUsageError, match="'boss' uses a label; a client is needed to look it up"):
        resolve_associations("contacts", columns)
