"""The /v1 router class: routes answer with and without a trailing slash."""

from typing import Any

from rest_framework.routers import DefaultRouter


class OptionalSlashRouter(DefaultRouter):
    """Routes that answer with and without a trailing slash (``/v1/orders`` and ``/v1/orders/``).

    DRF's routers only know "/" or "" and ignore other values passed to ``trailing_slash``.
    """

    include_format_suffixes = False

    def __init__(self, *, extra_root_links: dict[str, str] | None = None) -> None:
        super().__init__(trailing_slash=True)
        self.trailing_slash = "/?"
        self.extra_root_links = extra_root_links or {}

    def get_api_root_view(self, api_urls: Any = None) -> Any:
        api_root_dict = {
            prefix: self.routes[0].name.format(basename=basename)
            for prefix, _viewset, basename in self.registry
        }
        api_root_dict.update(self.extra_root_links)
        return self.APIRootView.as_view(api_root_dict=api_root_dict)
