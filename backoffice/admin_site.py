"""Branding callbacks for the unfold admin."""

from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse_lazy

from apps.security.headers import admin_eval_allowed

_BADGE_COLOURS = {"production": "danger", "staging": "warning", "local": "info"}


def environment_callback(request: HttpRequest) -> list[str]:
    name = settings.APP_ENVIRONMENT
    return [name.capitalize(), _BADGE_COLOURS.get(name, "info")]


def environment_title_prefix_callback(request: HttpRequest) -> str | None:
    name = settings.APP_ENVIRONMENT
    return None if name == "production" else f"[{name}]"


def has_perm(codename: str):
    """A sidebar permission callback: the item shows only to users holding ``codename``."""

    def check(request: HttpRequest) -> bool:
        return request.user.has_perm(codename)

    check.__name__ = f"has_perm_{codename.replace('.', '_')}"
    return check


def is_staff(request: HttpRequest) -> bool:
    """A sidebar permission callback: any staff member (e.g. their own spreadsheet jobs)."""
    return bool(request.user.is_active and request.user.is_staff)


def _nav(title: str, icon: str, url_name: str, perm: str) -> dict:
    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy(url_name),
        "permission": has_perm(perm),
    }


SIDEBAR_NAVIGATION = [
    {
        "title": "Sales",
        "separator": True,
        "items": [
            {"title": "Dashboard", "icon": "dashboard", "link": reverse_lazy("admin:index")},
            _nav("Orders", "shopping_cart", "admin:orders_order_changelist", "orders.view_order"),
            _nav(
                "Customers",
                "group",
                "admin:customers_customer_changelist",
                "customers.view_customer",
            ),
            _nav("Items", "checkroom", "admin:items_item_changelist", "items.view_item"),
        ],
    },
    {
        "title": "Messaging",
        "separator": True,
        "items": [
            _nav(
                "SMS log",
                "sms",
                "admin:notifications_smsmessage_changelist",
                "notifications.view_smsmessage",
            ),
        ],
    },
    {
        "title": "Access",
        "separator": True,
        "collapsible": True,
        "items": [
            _nav("Users", "person", "admin:auth_user_changelist", "auth.view_user"),
            _nav("Groups", "groups", "admin:auth_group_changelist", "auth.view_group"),
            _nav(
                "Service accounts",
                "smart_toy",
                "admin:accounts_serviceaccount_changelist",
                "accounts.view_serviceaccount",
            ),
            _nav(
                "Sign-in lockouts",
                "lock",
                "admin:axes_accessattempt_changelist",
                "axes.view_accessattempt",
            ),
            _nav(
                "SSO identities",
                "badge",
                "admin:socialaccount_socialaccount_changelist",
                "socialaccount.view_socialaccount",
            ),
        ],
    },
    {
        "title": "System",
        "separator": True,
        "collapsible": True,
        "items": [
            {
                "title": "Bulk order moves",
                "icon": "move_up",
                "link": reverse_lazy("admin:orders_ordermovejob_changelist"),
                "permission": is_staff,
            },
            {
                "title": "Spreadsheet jobs",
                "icon": "table_view",
                "link": reverse_lazy("admin:spreadsheets_spreadsheetjob_changelist"),
                "permission": is_staff,
            },
            _nav(
                "Background tasks",
                "schedule",
                "admin:django_tasks_database_dbtaskresult_changelist",
                "django_tasks_database.view_dbtaskresult",
            ),
        ],
    },
]


def sidebar_navigation(request: HttpRequest) -> list[dict]:
    return SIDEBAR_NAVIGATION


def alpine_expressions_script(request: HttpRequest) -> str:
    """unfold SCRIPTS: Alpine's expressions compiled ahead of time
    (``apps/admin_toolkit/alpine_csp.py``)."""
    return static("admin_toolkit/js/alpine-expressions.js")


def alpine_csp_script(request: HttpRequest) -> str:
    """unfold SCRIPTS: the Alpine evaluator that uses them instead of ``new Function``.

    With ``ADMIN_CSP_ALLOW_UNSAFE_EVAL`` the script is told (``?eval=allowed``) that it may
    compile an expression it has no compiled form for, as Alpine itself would.
    """
    url = static("admin_toolkit/js/alpine-csp.js")
    return f"{url}?eval=allowed" if admin_eval_allowed() else url


def unsaved_changes_script(request: HttpRequest) -> str:
    """unfold SCRIPTS: every admin form warns before leaving with unsaved changes."""
    return static("admin_toolkit/js/unsaved-changes.js")


def unfold_scripts(request: HttpRequest) -> dict[str, object]:
    """Context processor: the same scripts (and icon) for unfold pages rendered outside the admin
    site (django-axes' lockout page), whose context lacks unfold's ``scripts``."""
    return {
        "scripts": [alpine_expressions_script(request), alpine_csp_script(request)],
        "site_favicons": [{"rel": "icon", "type": "image/svg+xml", "href": favicon_url(request)}],
    }


def favicon_url(request: HttpRequest) -> str:
    return static("backoffice/favicon.svg")
