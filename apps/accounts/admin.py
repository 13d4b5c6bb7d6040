from typing import Any

# allauth's admin modules register its models with the stock admin when imported; importing
# them first lets this module replace those registrations below.
import allauth.account.admin
import allauth.socialaccount.admin  # noqa: F401
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from apps.admin_toolkit.history import HistoryIdsMixin
from apps.core.actors import Channel

from .models import ServiceAccount
from .services import service_account_create, service_account_delete, service_account_update

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


# SSO apps come from the environment (not the database) and tokens are not stored; the
# identities stay visible, in unfold's look.
for model in (SocialApp, SocialToken, SocialAccount, EmailAddress):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(SocialAccount)
class SocialAccountAdmin(ModelAdmin):
    """SSO identities: which IdP subject is which user. Created by signing in, never by hand."""

    list_display = ("user", "uid", "provider", "last_login", "date_joined")
    list_filter = ("provider",)
    search_fields = ("uid", "user__username", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "provider", "uid", "last_login", "date_joined", "extra_data")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ServiceAccountForm(forms.ModelForm):
    subject = forms.CharField(
        required=False,
        max_length=255,
        help_text=ServiceAccount._meta.get_field("subject").help_text
        + " Leave blank to use the client id.",
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.all(),
        required=False,
        help_text="The API permissions of the client come from these groups.",
    )
    is_active = forms.BooleanField(
        required=False, initial=True, help_text="Untick to refuse the client's tokens."
    )

    class Meta:
        model = ServiceAccount
        fields = ("client_id", "subject", "description")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["client_id"].disabled = True
            self.fields["groups"].initial = self.instance.user.groups.all()
            self.fields["is_active"].initial = self.instance.user.is_active

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("subject") and cleaned.get("client_id"):
            cleaned["subject"] = cleaned["client_id"]
            self.instance.subject = cleaned["subject"]
        return cleaned


@admin.register(ServiceAccount)
class ServiceAccountAdmin(HistoryIdsMixin, SimpleHistoryAdmin, ModelAdmin):
    """Machine clients (client-credentials tokens) allowed to call /v1; the history page shows
    who created and changed each, through which channel, and the access it was given."""

    form = ServiceAccountForm
    list_display = ("client_id", "subject", "description", "show_groups", "show_active")
    search_fields = ("client_id", "subject", "description")
    list_select_related = ("user",)
    fields = ("client_id", "subject", "description", "groups", "is_active")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceAccount]:
        return super().get_queryset(request).prefetch_related("user__groups")

    @display(description="Groups")
    def show_groups(self, obj: ServiceAccount) -> str:
        return ", ".join(sorted(g.name for g in obj.user.groups.all())) or "-"

    @display(description="Active", boolean=True)
    def show_active(self, obj: ServiceAccount) -> bool:
        return obj.user.is_active

    def save_model(
        self, request: HttpRequest, obj: ServiceAccount, form: ServiceAccountForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            service_account_update(
                service_account=obj,
                subject=data["subject"],
                description=data["description"],
                groups=data["groups"],
                is_active=data["is_active"],
                actor=request.user,
                channel=Channel.ADMIN,
            )
            return
        account = service_account_create(
            client_id=data["client_id"],
            subject=data["subject"],
            description=data["description"],
            groups=data["groups"],
            actor=request.user,
            channel=Channel.ADMIN,
        )
        if not data["is_active"]:
            service_account_update(
                service_account=account, is_active=False, actor=request.user, channel=Channel.ADMIN
            )
        obj.pk, obj.user, obj.date_created = account.pk, account.user, account.date_created

    def delete_model(self, request: HttpRequest, obj: ServiceAccount) -> None:
        service_account_delete(service_account=obj, actor=request.user, channel=Channel.ADMIN)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ServiceAccount]) -> None:
        for account in queryset.select_related("user"):
            service_account_delete(
                service_account=account, actor=request.user, channel=Channel.ADMIN
            )


# Sign-in lockouts (django-axes) in the unfold style; deleting an attempt lifts its lock.
from axes.admin import AccessAttemptAdmin as _AxesAccessAttemptAdmin  # noqa: E402
from axes.admin import AccessLogAdmin as _AxesAccessLogAdmin  # noqa: E402
from axes.models import AccessAttempt, AccessLog  # noqa: E402

for _model in (AccessAttempt, AccessLog):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(_AxesAccessAttemptAdmin, ModelAdmin):
    pass


@admin.register(AccessLog)
class AccessLogAdmin(_AxesAccessLogAdmin, ModelAdmin):
    pass
