import pytest

from apps.customers.models import Customer
from tests.api_helpers import assert_error
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

URL = "/v1/customers"


def test_customer_create_returns_201_location_and_body(api):
    response = api.post(
        URL,
        {"first_name": " Amina ", "last_name": "Otieno", "phone_number": "0712 345 678"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get(uuid=body["id"])
    assert response["Location"] == f"http://testserver/v1/customers/{customer.uuid}"
    assert body["first_name"] == "Amina"
    assert body["phone_number"] == "+254712345678"
    assert body["date_created"].endswith("Z")
    assert set(body) == {
        "id",
        "first_name",
        "last_name",
        "phone_number",
        "date_created",
        "date_modified",
    }
    assert str(customer.phone_number) == "+254712345678"


def test_customer_create_invalid_is_400_field_keyed(api):
    response = api.post(URL, {"last_name": "", "phone_number": "12"}, format="json")
    body = assert_error(response, 400, "invalid")
    assert set(body["errors"]) == {"first_name", "last_name", "phone_number"}
    assert Customer.objects.count() == 0


def test_customer_duplicate_phone_is_400_on_phone_number(api):
    CustomerFactory(phone_number="+254712345678")
    response = api.post(
        URL,
        {"first_name": "A", "last_name": "B", "phone_number": "+254712345678"},
        format="json",
    )
    body = assert_error(response, 400)
    assert body["errors"] == {"phone_number": ["A customer with this phone number already exists."]}


def test_customer_list_detail_patch_delete(api):
    customer = CustomerFactory(first_name="Old")
    listed = api.get(URL).json()
    assert [row["id"] for row in listed["results"]] == [str(customer.uuid)]
    assert listed["next"] is None and listed["previous"] is None

    detail = api.get(f"{URL}/{customer.uuid}")
    assert detail.status_code == 200
    assert detail.json()["first_name"] == "Old"

    patched = api.patch(f"{URL}/{customer.uuid}/", {"first_name": "New"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["first_name"] == "New"
    customer.refresh_from_db()
    assert customer.first_name == "New"

    deleted = api.delete(f"{URL}/{customer.uuid}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_customer_patch_invalid_phone_is_400_and_changes_nothing(api):
    customer = CustomerFactory(phone_number="+254712345678")
    response = api.patch(f"{URL}/{customer.uuid}", {"phone_number": "nope"}, format="json")
    assert assert_error(response, 400)["errors"] == {
        "phone_number": ["Enter a valid phone number."]
    }
    customer.refresh_from_db()
    assert customer.phone_number == "+254712345678"


def test_customer_delete_with_orders_is_409(api):
    order = OrderFactory()
    response = api.delete(f"{URL}/{order.customer.uuid}")
    body = assert_error(response, 409, "delete_blocked")
    assert "1 order" in body["detail"]
    assert Customer.objects.filter(pk=order.customer.pk).exists()


def test_customer_filter_by_phone_and_search(api):
    wanted = CustomerFactory(phone_number="+254712345678", last_name="Wanjiru")
    CustomerFactory(phone_number="+254700000001", last_name="Kamau")
    for query in ("phone=0712345678", "phone=%2B254712345678", "search=wanj"):
        rows = api.get(f"{URL}?{query}").json()["results"]
        assert [r["id"] for r in rows] == [str(wanted.uuid)], query
    assert api.get(f"{URL}?phone=garbage").json()["results"] == []


def test_customer_ordering_by_last_name(api):
    for name in ("Cc", "Aa", "Bb"):
        CustomerFactory(last_name=name)
    rows = api.get(f"{URL}?ordering=last_name").json()["results"]
    assert [r["last_name"] for r in rows] == ["Aa", "Bb", "Cc"]
    rows = api.get(f"{URL}?ordering=-last_name").json()["results"]
    assert [r["last_name"] for r in rows] == ["Cc", "Bb", "Aa"]
