"""Ports: the interfaces the core needs, as small async Protocols."""

from orderdesk_mcp.ports.audit import AuditLog, AuditRecord, FieldChange
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.credentials import CredentialStore, StoreAccess
from orderdesk_mcp.ports.gateway import OrderGateway
from orderdesk_mcp.ports.rate_limiter import RateLimiter

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
