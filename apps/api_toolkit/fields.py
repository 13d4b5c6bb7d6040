"""Serializer fields shared by the /v1 resources."""

from collections.abc import Callable
from typing import Any

from rest_framework import serializers


class UUIDRelatedField(serializers.UUIDField):
    """Input: the ``id`` (uuid) of another object, resolved through its selector.

    An unknown or malformed uuid is a 400 on this field, never a 500 or a 404.
    """

    default_error_messages = {
        **serializers.UUIDField.default_error_messages,
        "does_not_exist": "No {model} with id {value}.",
    }

    def __init__(self, *, getter: Callable[..., Any], model_name: str, **kwargs: Any) -> None:
        self.getter = getter
        self.model_name = model_name
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        obj = self.getter(uuid=value)
        if obj is None:
            self.fail("does_not_exist", model=self.model_name, value=value)
        return obj
