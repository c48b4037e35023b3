"""Association reads (labels, one record's associations) and the account information API."""

from __future__ import annotations

from typing import Any

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.app_core import AppCore, Route
from hubspot_loader.sandbox.config import TokenConfig
from hubspot_loader.sandbox.http_types import Request, Response

#: "Limit 500 per call" (Spec repo ``Associations/…/{v4,2026-03}/associations.json``, the read operation)
MAX_ASSOCIATIONS_PAGE = 500


class AssociationEndpoints(AppCore):
    """Handlers of the association reads and of ``GET /account-info/{v3|2026-03}/details``."""

    def h_labels(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``GET …/associations/{from}/{to}/labels``: ``{"results": [AssociationSpecWithLabel]}``."""
        from_type = self.catalog.resolve(route.object_ref or "")
        to_type = self.catalog.resolve(route.to_ref or "")
        if from_type is None or to_type is None:
            raise errors.unknown_object_type((route.object_ref if from_type is None else route.to_ref) or "")
        return Response(200, {"results": self.catalog.labels(from_type, to_type)})

    def _page_bounds(self, req: Request) -> tuple[int, int]:
        try:
            limit = int(req.param("limit") or MAX_ASSOCIATIONS_PAGE)
            after = int(req.param("after") or 0)
        except ValueError:
            raise errors.validation("limit and after must be integers") from None
        return min(max(limit, 1), MAX_ASSOCIATIONS_PAGE), after

    def h_associations_read(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``GET /crm/{v4|objects/2026-03}/objects/{type}/{id}/associations/{toType}``: one record's links.

        ``CollectionResponseMultiAssociatedObjectWithLabelForwardPaging``, ``limit`` (≤ 500) and ``after``.
        Ids are numbers, as in HubSpot's answers (reference §11.3), although the spec types them as strings.
        """
        obj = self._object_type(route, token, write=False)
        target = self._object_type(route, token, write=False, ref=route.to_ref)
        limit, after = self._page_bounds(req)
        value = route.object_id or ""
        stored = self.store.get(obj, int(value) if value.isdigit() else None)
        if stored is None:
            raise errors.not_found(f"No {obj.singular} with id {value}")
        links = sorted(
            (to_id, tids)
            for to_t, to_id, tids in self.store.associations(obj.type_id, stored.id)
            if to_t == target.type_id and to_id > after
        )
        results = [
            {"toObjectId": to_id, "associationTypes": [self.catalog.associations[t].to_label() for t in tids]}
            for to_id, tids in links[:limit]
        ]
        body: dict[str, Any] = {"results": results}
        if len(links) > limit:
            last = str(links[limit - 1][0])
            body["paging"] = {"next": {"after": last, "link": f"{req.path}?after={last}&limit={limit}"}}
        return Response(200, body)

    def h_account_details(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``GET /account-info/{v3|2026-03}/details``: ``PortalInformationResponse`` (reference §16.7).

        Every field is required by the spec. The portal id and UI domain come from the configuration; the
        account is a ``STANDARD`` one in UTC (the sandbox's daily limit resets at midnight UTC) paying in USD.
        The spec's only scope is ``oauth``, which every OAuth token carries; any accepted token may call it.
        """
        domain = self.config.ui_domain
        hosting = domain.removeprefix("app-").split(".")[0] if domain.startswith("app-") else "na1"
        body = {
            "portalId": self.config.portal_id,
            "accountType": "STANDARD",
            "timeZone": "UTC",
            "companyCurrency": "USD",
            "additionalCurrencies": [],
            "utcOffset": "+00:00",
            "utcOffsetMilliseconds": 0,
            "uiDomain": domain,
            "dataHostingLocation": hosting,
        }
        return Response(200, body)
