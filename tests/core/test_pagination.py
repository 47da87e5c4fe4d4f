"""Lists page with ?page=N&page_size=M (docs/api.md, "Pagination"); a bad value is a 400."""

from __future__ import annotations

import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


# Not named "page": that is pytest-playwright's fixture, and a parameter of that name
# starts a browser session that leaves its event loop set for the tests after it.
@pytest.mark.parametrize("number", ["abc", "0", "-2", "1.5"])
def test_a_page_that_is_not_a_whole_number_of_1_or_more_answers_400(client_for, number):
    response = client_for("brand").get(CUSTOMERS, {"page": number})
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "page"


@pytest.mark.parametrize("size", ["abc", "0", "-1"])
def test_a_page_size_that_is_not_a_whole_number_of_1_or_more_answers_400(client_for, size):
    response = client_for("brand").get(CUSTOMERS, {"page_size": size})
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "page_size"


def test_a_page_size_over_1000_reads_as_1000(client_for):
    CustomerFactory()
    response = client_for("brand").get(CUSTOMERS, {"page_size": 5000})
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_page_past_the_last_answers_404(client_for):
    CustomerFactory()
    response = client_for("brand").get(CUSTOMERS, {"page": 3})
    assert response.status_code == 404
    assert "errors" in response.json()
