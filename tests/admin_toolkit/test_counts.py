import pytest

from apps.admin_toolkit.counts import bounded_count
from apps.orders.models import Order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_exact_up_to_the_bound_and_more_than_beyond(django_assert_num_queries):
    OrderFactory.create_batch(4)
    with django_assert_num_queries(1) as ctx:
        below = bounded_count(Order.objects.all(), bound=5)
    assert "LIMIT 6" in ctx.captured_queries[0]["sql"]
    assert (below.value, below.exact, str(below)) == (4, True, "4")
    at = bounded_count(Order.objects.all(), bound=4)
    assert (at.value, at.exact, str(at)) == (4, True, "4")
    beyond = bounded_count(Order.objects.all(), bound=3)
    assert (beyond.value, beyond.exact, str(beyond)) == (3, False, "more than 3")
    assert bounded_count(Order.objects.none()).exact
