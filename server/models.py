"""Every table, imported in one place so metadata (and Alembic) sees them all."""

from server.audit.models import AccessEntry
from server.changelog.models import Change, ChangeCounter, ChangeRetention, StoreCustomer
from server.consent.models import ConsentEvent, ConsentState, Notice
from server.contact.models import Contact, FollowUp, Suppression
from server.customer_requests.models import CustomerRequest, StatusChange
from server.customers.models import Customer
from server.dashboard.models import RequestSearch, SearchPosition, User
from server.notes.models import Note
from server.privacy.models import ErasurePropagation, PrivacyRequest
from server.stores.models import ApiKey, Associate, Device, Store
from server.sync.models import AppliedMutation
from server.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = ["AccessEntry", "ApiKey", "AppliedMutation", "Associate", "Change", "ChangeCounter",
           "ChangeRetention", "ConsentEvent", "ConsentState", "Contact", "Customer",
           "CustomerRequest", "Device", "ErasurePropagation", "FollowUp", "Note", "Notice",
           "PrivacyRequest", "RequestSearch", "SearchPosition", "StatusChange", "Store",
           "StoreCustomer", "Suppression", "User", "WebhookAttempt", "WebhookDelivery",
           "WebhookSubscription"]
