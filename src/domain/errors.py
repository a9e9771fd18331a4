"""The domain error tree. Every message is safe to show an agent or a user.

Each error stores the facts it is about and builds its message from them. No message ever
includes an API key, a request header or a raw upstream body; OrderDesk's own ``message``
text is passed through only after :func:`safe_upstream_text` has cut it down.
"""

from __future__ import annotations

from collections.abc import Iterable

from orderdesk_mcp.domain.redaction import redact_card_numbers, redact_text

__all__ = [
    "AuditUnavailable",
    "AuthenticationFailed",
    "ConcurrentModification",
    "ConfirmationDeclined",
    "ConfirmationRequired",
    "CredentialsMissing",
    "DeadlineExceeded",
    "IdempotencyMismatch",
    "IdempotencyUnavailable",
    "InvalidRequest",
    "MergeRejected",
    "NoStoreConfigured",
    "OrderDeskError",
    "OrderNotFound",
    "OutcomeUnknown",
    "RateLimited",
    "ReadOnlyMode",
    "StaleFingerprint",
    "StoreNotFound",
    "StoreSelectionRequired",
    "UnknownFolder",
    "UpdateConflict",
    "UpstreamRejected",
    "UpstreamUnavailable",
    "WriteInProgress",
    "safe_upstream_text",
]

_MAX_UPSTREAM_TEXT = 300


def safe_upstream_text(text: object, *, secrets: Iterable[str] = ()) -> str:
    """Return OrderDesk's ``message`` as one short printable line with nothing secret in it.

    The store's key (``secrets``), anything key-shaped and card numbers become ``[redacted]``
    (an upstream message that echoes the request must not leak it); control characters are
    dropped and the text is cut to 300 characters, so a hostile or broken upstream body cannot
    flood a tool result or forge extra log lines.
    """
    raw = text if isinstance(text, str) else ""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in raw).strip()
    cleaned = redact_text(cleaned, secrets=secrets)
    if len(cleaned) > _MAX_UPSTREAM_TEXT:
        cleaned = cleaned[: _MAX_UPSTREAM_TEXT - 1] + "…"
    return cleaned or "no reason given"


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 10 else f"{round(seconds)} s"


class OrderDeskError(Exception):
    """Base of every failure a caller of this service can see.

    A card number (13 to 19 digits passing the Luhn check) never appears in a message, whatever
    the caller sent: it is shown as ``[redacted]``.
    """

    def __init__(self, message: str) -> None:
        message = redact_card_numbers(message)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class OrderNotFound(OrderDeskError):
    """The order does not exist in the store (or the store cannot see it)."""

    def __init__(self, order_id: str, store_id: str) -> None:
        self.order_id = order_id
        self.store_id = store_id
        super().__init__(f"Order {order_id} was not found in store {store_id}.")


class InvalidRequest(OrderDeskError):
    """The caller's input is wrong; ``problems`` names every wrong or missing field."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        joined = "; ".join(self.problems) or "the request is not valid"
        super().__init__(f"Invalid request: {joined}.")


class MergeRejected(OrderDeskError):
    """The changes name keys an update may not touch."""

    def __init__(self, rejected: Iterable[str], reasons: Iterable[str]) -> None:
        self.rejected = tuple(sorted(rejected))
        self.reasons = tuple(reasons)
        super().__init__(
            f"These keys cannot be changed: {', '.join(self.rejected)}. " + " ".join(self.reasons)
        )


class StaleFingerprint(OrderDeskError):
    """The order changed since the caller read it (``expected_fingerprint`` did not match)."""

    def __init__(self, order_id: str, changed_fields: Iterable[str]) -> None:
        self.order_id = order_id
        self.changed_fields = tuple(sorted(changed_fields))
        fields = f" (changed: {', '.join(self.changed_fields)})" if self.changed_fields else ""
        super().__init__(
            f"Order {order_id} changed since you read it{fields}. "
            "Nothing was written; read it again with orders_get and retry with the new fingerprint."
        )


class UpdateConflict(OrderDeskError):
    """Another writer kept changing the order; the update gave up without writing."""

    def __init__(self, order_id: str, attempts: int, changed_fields: Iterable[str]) -> None:
        self.order_id = order_id
        self.attempts = attempts
        self.changed_fields = tuple(sorted(changed_fields))
        fields = ", ".join(self.changed_fields) or "unknown fields"
        super().__init__(
            f"Order {order_id} kept changing while we tried to update it ({attempts} attempts; "
            f"fields that kept changing: {fields}). Nothing was written; read it again and retry."
        )


class RateLimited(OrderDeskError):
    """OrderDesk's rate limit for the store was reached."""

    def __init__(self, store_id: str, retry_after: float | None) -> None:
        self.store_id = store_id
        self.retry_after = retry_after
        when = f"retry in {_fmt_seconds(retry_after)}" if retry_after is not None else "retry shortly"
        super().__init__(f"OrderDesk's rate limit for store {store_id} was reached; {when}.")


class UpstreamUnavailable(OrderDeskError):
    """OrderDesk could not be reached or kept failing with server errors."""

    def __init__(self, reason: str, *, retry_after: float | None = None, maybe_sent: bool = False) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent
        super().__init__(f"OrderDesk is unavailable right now ({reason}); try again in a minute.")


class OutcomeUnknown(OrderDeskError):
    """A non-repeatable request may or may not have taken effect upstream."""

    def __init__(self, operation: str, reason: str, *, source_id: str | None = None) -> None:
        self.operation = operation
        self.reason = reason
        self.source_id = source_id
        found_by = (
            f" It was sent with source_id {source_id!r}: look for it with orders_list by that source_id, "
            "and do not send it again without the same idempotency_key."
            if source_id
            else ""
        )
        super().__init__(
            f"OrderDesk did not confirm the {operation} ({reason}); it may or may not have happened."
            + found_by
        )


class UpstreamRejected(OrderDeskError):
    """OrderDesk refused the request and said why.

    ``quoted=True`` marks ``upstream_message`` as OrderDesk's own words: the message shows
    them in quotes after ``OrderDesk said:``, so an agent reads them as data, never as ours.
    """

    def __init__(
        self,
        upstream_message: object,
        *,
        status: int | None = None,
        secrets: Iterable[str] = (),
        quoted: bool = False,
    ) -> None:
        self.upstream_message = safe_upstream_text(upstream_message, secrets=secrets)
        self.status = status
        if quoted:
            said = self.upstream_message.replace('"', "'")
            super().__init__(f'OrderDesk rejected the request. OrderDesk said: "{said}"')
        else:
            super().__init__(f"OrderDesk rejected the request: {self.upstream_message}")


class AuthenticationFailed(OrderDeskError):
    """OrderDesk refused the store id / API key pair."""

    def __init__(self, store_id: str) -> None:
        self.store_id = store_id
        super().__init__(
            f"OrderDesk refused the credentials for store {store_id}; "
            "check the store id and API key (Store Settings → API in OrderDesk)."
        )


class CredentialsMissing(OrderDeskError):
    """No API key is configured for the store."""

    def __init__(self, store_id: str) -> None:
        self.store_id = store_id
        super().__init__(f"No OrderDesk API key is configured for store {store_id}.")


class StoreNotFound(OrderDeskError):
    """The tenant has no store by that id or alias (another tenant's store looks the same)."""

    def __init__(self, store: str) -> None:
        self.store = store
        super().__init__(f"Store {store!r} does not exist or is not available to you.")


class StoreSelectionRequired(OrderDeskError):
    """The tenant has several stores and the call did not say which one."""

    def __init__(self, choices: Iterable[str]) -> None:
        self.choices = tuple(choices)
        super().__init__(f"Several stores are available; pass store as one of: {', '.join(self.choices)}.")


class NoStoreConfigured(OrderDeskError):
    """The tenant has no store at all: nothing the agent can pass will help, the operator must add one."""

    def __init__(self) -> None:
        super().__init__(
            "No OrderDesk store is set up for you yet; ask the operator to add one "
            "(orderdesk-mcp stores add)."
        )


class ReadOnlyMode(OrderDeskError):
    """Writes are switched off for this server or this store."""

    def __init__(self, action: str, store_id: str | None = None) -> None:
        self.action = action
        self.store_id = store_id
        where = f"store {store_id} is read-only" if store_id else "this server runs in read-only mode"
        super().__init__(f"Refused {action}: {where}.")


class IdempotencyMismatch(OrderDeskError):
    """An idempotency key was reused with a different order body."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"Idempotency key {key!r} was already used for a different order; use a new key for a new order."
        )


class ConfirmationRequired(OrderDeskError):
    """A destructive action was requested without explicit confirmation."""

    def __init__(self, action: str, how: str) -> None:
        self.action = action
        self.how = how
        super().__init__(f"Nothing was done: {action} needs confirmation. {how}")


class AuditUnavailable(OrderDeskError):
    """The audit log could not record a write's attempt, so the write was not sent."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        super().__init__(
            f"{tool} was not sent to OrderDesk: the audit log could not record it (the server's data "
            "directory may be full or read-only). Tell the person who runs this server."
        )


class ConfirmationDeclined(OrderDeskError):
    """The person asked to confirm a destructive action declined or cancelled it (said which)."""

    def __init__(self, action: str, outcome: str = "nothing was done", *, cancelled: bool = False) -> None:
        self.action = action
        answer = "cancelled" if cancelled else "declined"
        super().__init__(f"The person {answer} {action}; {outcome}. Do not retry without asking them.")


class DeadlineExceeded(OrderDeskError):
    """The call ran out of time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(
            f"The call did not finish within its {_fmt_seconds(seconds)} deadline and was stopped; "
            "OrderDesk may be slow, try again."
        )


class ConcurrentModification(OrderDeskError):
    """OrderDesk answered 409: someone else wrote the order first. Update retries on it."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"Order {order_id} was changed by another writer at the same time.")


class IdempotencyUnavailable(OrderDeskError):
    """The idempotency record could not be read or is held by a create still in flight."""

    def __init__(self, key: str, reason: str, *, unsent: str = "nothing was created") -> None:
        self.key = key
        self.reason = reason
        super().__init__(
            f"Could not safely use idempotency key {key!r} ({reason}); {unsent}. Try again shortly."
        )


class IdempotentOrderGone(OrderDeskError):
    """An idempotency key's create is done, but the order it made has since been deleted."""

    def __init__(self, key: str, order_id: str) -> None:
        self.key = key
        self.order_id = order_id
        super().__init__(
            f"Idempotency key {key!r} already created order {order_id}, which is no longer in OrderDesk "
            "(deleted since); nothing was created. Use a new key to create it again."
        )


class IdempotentOrderUnreadable(OrderDeskError):
    """An idempotency key's create is done, but OrderDesk could not be read to show the order now."""

    def __init__(self, key: str, order_id: str, reason: str) -> None:
        self.key = key
        self.order_id = order_id
        super().__init__(
            f"Idempotency key {key!r} already created order {order_id}; it could not be read from OrderDesk "
            f"just now ({reason.rstrip('.')}). Do not create it again: read it with orders_get in a moment."
        )


class UnknownFolder(OrderDeskError):
    """A folder name or id that the store does not have; the message lists the store's folders."""

    def __init__(self, given: str, folders: Iterable[str]) -> None:
        self.given = given
        self.folders = tuple(folders)
        listed = ", ".join(self.folders) if self.folders else "none"
        super().__init__(f"Folder {given!r} does not exist in this store; its folders are: {listed}.")


class WriteInProgress(OrderDeskError):
    """Another writer held the resource's write lock for the whole of this call's deadline."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"Another agent is changing {what} right now; try again in a moment.")
