"""The OpenAPI schema (``/api/schema/``) describes the answers as they are: paginated lists
as ``{"count", "next", "previous", "results"}``, and enum fields that may be empty
allow ``""`` (docs/api.md, "Pagination"). Each key list answer is validated against
the schema the API serves, with schemathesis' own response validation."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from schemathesis.core.transport import Response

from activation import services as activation
from segmentation import services
from tests.activation.support import active_version, approved_mapping, cardiologists
from tests.factories import CustomerFactory
from tests.factories.customers import AccountFactory
from tests.segmentation.segments_support import activate, make_segment

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/customers/",
    "/api/v1/assets/",
    "/api/v1/mappings/",
    "/api/v1/segments/",
    "/api/v1/segments/cardio/members/",
    "/api/v1/segments/cardio/history/",
    "/api/v1/segments/cardio/publications/",
    "/api/v1/destinations/",
    "/api/v1/publications/",
    "/api/v1/audit/",
]


def _as_response(response, url: str) -> Response:
    """A Django test response as the response schemathesis validates."""
    return Response(
        status_code=response.status_code,
        headers={name.lower(): [value] for name, value in response.headers.items()},
        content=response.content,
        request=requests.Request("GET", f"http://testserver{url}").prepare(),
        elapsed=0.0,
        verify=False,
    )


@pytest.fixture
def data(make_user, settings, tmp_path):
    settings.ACTIVATION_FILE_ROOT = tmp_path
    brand = make_user("brand")
    # An HCP with no credential, role or practice setting: those enums come back as "".
    CustomerFactory(credential="", role="", practice_setting="")
    version = active_version(brand, "cardio", customers=cardiologists(3))
    approved_mapping(version, brand)
    admin = make_user("admin")
    destination = activation.create_destination(
        user=admin, data={"key": "drop", "channel": "email", "kind": "file", "directory": "d"}
    )
    publication = activation.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key
    )
    activation.sync_publication(publication_id=publication.pk, trigger="test")
    activation.deliver_publication(publication_id=publication.pk)
    return publication


def test_key_list_answers_conform_to_the_served_schema(client_for, data):
    admin = client_for("admin")
    served = admin.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert served.status_code == 200
    schema = schemathesis.openapi.from_dict(served.json())
    syncs = f"/api/v1/publications/{data.pk}/syncs/"
    for url in [*LISTS, syncs]:
        response = admin.get(url)
        assert response.status_code == 200, (url, response.content)
        body = response.json()
        assert set(body) >= {"count", "next", "previous", "results"}, url
        path = url.replace("/cardio/", "/{key}/").replace(f"/{data.pk}/", "/{id}/")
        operation = schema[path]["GET"]
        operation.validate_response(_as_response(response, url))
    customers = admin.get("/api/v1/customers/").json()["results"]
    assert any(c["credential"] == "" for c in customers)


def test_an_account_segments_members_and_history_conform_too(client_for, make_user):
    """An account segment's rows name accounts (``account_id``), not NPIs."""
    CustomerFactory(account=AccountFactory(account_id="H1"), decile=9)
    high = {"field": "decile", "op": "gte", "value": 8}
    rule = {"members": high, "count": {"op": "gte", "value": 1}}
    services.recompute_version(
        version=activate(make_segment(make_user("brand"), "accts", rule, unit="account"))
    )
    admin = client_for("admin")
    schema = schemathesis.openapi.from_dict(
        admin.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    )
    for url, path in [
        ("/api/v1/segments/accts/members/", "/api/v1/segments/{key}/members/"),
        ("/api/v1/segments/accts/history/", "/api/v1/segments/{key}/history/"),
    ]:
        response = admin.get(url)
        assert response.status_code == 200, (url, response.content)
        assert response.json()["results"][0]["account_id"] == "H1"
        schema[path]["GET"].validate_response(_as_response(response, url))
