"""Bulk moves over the in-request bound run on the worker as a job: asked first, through the same
service and version checks, with progress, a report by reason, cancel and a sweep of dead
workers; "select all N matching" counts the filtered list for real."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.accounts.roles import roles_sync
from apps.notifications.models import SmsMessage
from apps.orders.models import MoveJobStatus, Order, OrderEvent, OrderMoveJob
from apps.orders.move_job_runner import order_move_job_run
from apps.orders.move_jobs import MoveJobError, order_move_job_create, order_move_jobs_sweep
from apps.orders.services import order_update
from apps.orders.transitions import order_transition
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "admin:orders_order_changelist"


@pytest.fixture
def operator():
    roles_sync()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Operator"))
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def small_bound(settings):
    settings.ORDERS_BULK_ACTION_MAX = 3
    settings.ORDERS_MOVE_JOB_BATCH = 2


def _ask(client, action: str, query: str = "", **extra):
    data = {"action": action, "_selected_action": [], "select_across": "1", "index": "0"}
    data["_selected_action"] = [str(Order.objects.values_list("pk", flat=True).first())]
    data.update(extra)
    return client.post(reverse(LIST) + query, data)


def test_a_move_over_the_bound_asks_first_then_runs_as_a_job(
    operator, small_bound, django_capture_on_commit_callbacks
):
    client, user = operator
    placed = [OrderFactory() for _ in range(5)]
    OrderFactory(status="delivered")
    page = _ask(client, "confirm_orders")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="move-as-job"' in html
    assert "Confirm 5 of the 6 selected orders?" in html
    assert "Confirm 5 orders in the background" in html
    assert not OrderMoveJob.objects.exists()  # asking wrote nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(client, "confirm_orders", post="yes")
    job = OrderMoveJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:orders_ordermovejob_change", args=[job.pk])
    assert (job.total, job.skipped, job.owner, job.channel) == (5, {"delivered": 1}, user, "admin")
    assert DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).count() == 1
    assert Order.objects.filter(status="placed").count() == 5  # the worker moves them

    assert order_move_job_run(job.pk) == MoveJobStatus.SUCCEEDED
    job.refresh_from_db()
    assert (job.done, job.moved, job.stale) == (5, 5, 0)
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in placed])} == {"confirmed"}
    events = OrderEvent.objects.filter(kind="status", to_status="confirmed")
    assert events.count() == 5
    assert {(e.actor_id, e.channel) for e in events} == {(user.pk, "admin")}
    assert job.message == (
        "5 of 6 orders moved to confirmed; 1 skipped by their status (1 delivered)."
    )
    page = client.get(reverse("admin:orders_ordermovejob_change", args=[job.pk]))
    html = page.content.decode()
    assert "Moved to confirmed: 5." in html
    assert "Skipped, delivered (cannot move to confirmed): 1." in html
    assert order_move_job_run(job.pk) == "not queued"  # a second run of the task does nothing


def test_the_job_keeps_the_version_checks_and_the_sms(operator, small_bound, settings):
    _, user = operator
    orders = [OrderFactory(status="confirmed") for _ in range(4)]
    job = order_move_job_create(
        orders=Order.objects.all(), to="dispatched", actor=user, channel="admin"
    )
    assert job.sms_expected == 4
    changed = orders[1]
    order_update(order=changed, data={"quantity": changed.quantity + 1}, actor=None)
    order_move_job_run(job.pk)
    job.refresh_from_db()
    assert (job.moved, job.stale, job.stale_numbers) == (3, 1, [changed.number])
    assert Order.objects.get(pk=changed.pk).status == "confirmed"
    assert SmsMessage.objects.filter(kind="dispatched").count() == 3
    assert "1 left alone because someone changed them meanwhile" in job.message


def test_an_order_moved_meanwhile_is_skipped_by_its_status(operator, small_bound):
    _, user = operator
    orders = [OrderFactory() for _ in range(4)]
    job = order_move_job_create(orders=Order.objects.all(), to="confirmed", actor=user)

    order_transition(order=orders[0], to="cancelled", actor=None, reason="customer called")
    order_move_job_run(job.pk)
    job.refresh_from_db()
    # the cancel bumped the version too: the job leaves the order alone either way
    assert job.moved == 3
    assert job.stale + job.skipped_count == 1
    assert Order.objects.get(pk=orders[0].pk).status == "cancelled"


def test_cancel_stops_a_queued_job_at_once_and_a_running_one_between_batches(operator, small_bound):
    client, user = operator
    for _ in range(5):
        OrderFactory()
    job = order_move_job_create(orders=Order.objects.all(), to="confirmed", actor=user)
    response = client.post(reverse("admin:orders_ordermovejob_cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert job.message == "Cancelled before it started: no order was moved."
    assert order_move_job_run(job.pk) == "not queued"
    assert not Order.objects.filter(status="confirmed").exists()

    running = order_move_job_create(orders=Order.objects.all(), to="confirmed", actor=user)
    OrderMoveJob.objects.filter(pk=running.pk).update(status="running")
    response = client.post(reverse("admin:orders_ordermovejob_cancel", args=[running.pk]))
    running.refresh_from_db()
    assert (running.status, running.cancel_requested) == ("running", True)
    OrderMoveJob.objects.filter(pk=running.pk).update(status="queued")  # as the worker finds it
    assert order_move_job_run(running.pk) == MoveJobStatus.CANCELLED
    running.refresh_from_db()
    assert running.moved == 0
    assert "5 not reached" in running.message


def test_a_job_stops_when_its_owner_loses_the_permission(operator, small_bound):
    _, user = operator
    for _ in range(4):
        OrderFactory()
    job = order_move_job_create(orders=Order.objects.all(), to="confirmed", actor=user)
    user.groups.clear()
    assert order_move_job_run(job.pk) == MoveJobStatus.FAILED
    job.refresh_from_db()
    assert job.message.startswith("Stopped: You may not move orders to confirmed.")
    assert job.moved == 0
    assert not Order.objects.filter(status="confirmed").exists()


def test_nothing_eligible_or_too_many_is_refused(operator, small_bound, settings):
    client, user = operator
    OrderFactory(status="delivered")
    with pytest.raises(MoveJobError, match="None of the selected orders can move"):
        order_move_job_create(orders=Order.objects.all(), to="confirmed", actor=user)
    for _ in range(5):
        OrderFactory()
    settings.ORDERS_MOVE_JOB_MAX = 4
    response = _ask(client, "confirm_orders", post="yes")
    assert response.status_code == 302
    assert not OrderMoveJob.objects.exists()
    with pytest.raises(MoveJobError, match="at most 4 move in one job"):
        order_move_job_create(orders=Order.objects.all(), to="confirmed", actor=user)


def test_a_dead_worker_is_swept(operator, small_bound, settings):
    _, user = operator
    for _ in range(3):
        OrderFactory()
    job = order_move_job_create(orders=Order.objects.all(), to="confirmed", actor=user)
    old = timezone.now() - timedelta(seconds=settings.ORDERS_MOVE_JOB_HEARTBEAT_TIMEOUT_SECONDS + 5)
    OrderMoveJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=old)
    assert order_move_jobs_sweep() == "1 stopped bulk move(s) marked failed"
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message.startswith("The worker stopped after 0 of 3 orders")


def test_queries_per_order_are_bounded(operator, settings, django_assert_max_num_queries):
    _, user = operator
    settings.ORDERS_MOVE_JOB_BATCH = 20
    for _ in range(40):
        OrderFactory()
    job = order_move_job_create(orders=Order.objects.all(), to="confirmed", actor=user)
    # per order: its version lock, the locked read, the status check, the update, its history
    # record, the event, and the savepoints around them; per batch: the batch, its orders, the
    # job's counts, the cancel check
    with django_assert_max_num_queries(40 * 11) as ctx:
        order_move_job_run(job.pk)
    per_order = len(ctx.captured_queries) / 40
    assert per_order <= 11, per_order


def test_progress_and_the_job_list_show_only_ones_own(operator, small_bound):
    client, user = operator
    for _ in range(4):
        OrderFactory()
    job = order_move_job_create(orders=Order.objects.all(), to="confirmed", actor=user)
    progress = client.get(reverse("admin:orders_ordermovejob_progress", args=[job.pk])).json()
    assert (progress["status"], progress["done"], progress["total"]) == ("queued", "0", "4")
    listing = client.get(reverse("admin:orders_ordermovejob_changelist"))
    assert listing.status_code == 200
    other = Client()
    other.force_login(UserFactory(is_staff=True))
    assert other.get(reverse("admin:orders_ordermovejob_change", args=[job.pk])).status_code == 404
    assert (
        other.get(reverse("admin:orders_ordermovejob_progress", args=[job.pk])).status_code == 404
    )


def test_matching_count_follows_the_lists_filters_and_is_bounded(operator, monkeypatch):
    client, _ = operator
    for _ in range(3):
        OrderFactory()
    OrderFactory(status="delivered")
    url = reverse("admin:orders_order_matching_count")
    assert ">4</span>" in client.get(url).content.decode()
    assert ">3</span>" in client.get(url + "?status__exact=placed").content.decode()
    assert client.get(url + "?nonsense=1").status_code == 400
    from apps.admin_toolkit import counts

    monkeypatch.setattr(counts, "DEFAULT_BOUND", 2)
    html = client.get(url).content.decode()
    assert "more than 2" in html or ">4</span>" in html


def test_select_all_is_offered_only_when_the_list_goes_beyond_the_page(operator, settings):
    client, _ = operator
    for _ in range(3):
        OrderFactory()
    html = client.get(reverse(LIST)).content.decode()
    assert 'id="select-all-matching"' not in html
    assert "9999999999" not in html
    for _ in range(50):
        OrderFactory()
    html = client.get(reverse(LIST)).content.decode()
    assert 'id="select-all-matching"' in html
    assert "9999999999" not in html
