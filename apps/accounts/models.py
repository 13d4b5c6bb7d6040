from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from apps.core.audit import AuditedHistory


class ServiceAccount(models.Model):
    """A machine client allowed to call the API with client-credentials tokens.

    The linked user carries the permissions (through its groups) and is never used to sign in
    interactively: it has no usable password and no SSO identity.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_account"
    )
    client_id = models.CharField(
        max_length=255, unique=True, help_text="The client id registered at the identity provider."
    )
    subject = models.CharField(
        max_length=255,
        unique=True,
        help_text=(
            "The 'sub' of the client's access tokens. Equal to the client id on most IdPs "
            "(Okta, Auth0, oidc-provider); the service-account user id on Keycloak; the service "
            "principal object id on Microsoft Entra ID."
        ),
    )
    description = models.CharField(max_length=255, blank=True)
    date_created = models.DateTimeField(auto_now_add=True)

    # Who created, changed or deleted the account, and through which channel (the change of its
    # user's groups and active flag is named in the record's reason).
    history = HistoricalRecords(cascade_delete_history=False, bases=[AuditedHistory])

    class Meta:
        ordering = ["client_id"]

    def __str__(self) -> str:
        return self.client_id


class ClaimsState(models.Model):
    """When the IdP's claims were last applied to a person (staff flags, mapped groups).

    Tokens outlive group changes: a JWT issued before someone left the staff group still says
    they are in it. Claims older than the last applied ones are therefore not applied again, so
    an old token cannot undo what a newer token, userinfo answer or admin login has set. The
    digest lets an API request that brings the same claims again skip the comparison.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claims_state"
    )
    as_of = models.DateTimeField(help_text="Issue time of the claims last applied.")
    digest = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the claims last applied and their mapping."
    )

    class Meta:
        verbose_name = "claims state"

    def __str__(self) -> str:
        return f"{self.user} as of {self.as_of:%Y-%m-%d %H:%M:%S}"
