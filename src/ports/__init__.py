"""Ports: the interfaces the core needs, as small async Protocols."""

from ports.audit import AuditLog, AuditRecord, FieldChange
from ports.cache import OrderCache
from ports.clock import Clock
from ports.credentials import CredentialStore, StoreAccess
from ports.gateway import OrderGateway
from ports.rate_limiter import RateLimiter

__all__ = [
    "AuditLog",
    "AuditRecord",
    "Clock",
    "CredentialStore",
    "FieldChange",
    "OrderCache",
    "OrderGateway",
    "RateLimiter",
    "StoreAccess",
]
