"""The live suite: the gateway contract and the assumption tests against a real OrderDesk store.

``make test`` runs every test here against the simulator and skips the live cases with one
reason; ``make test-live`` runs only the live cases when ``ORDERDESK_TEST_ENABLED=true``,
``ORDERDESK_TEST_STORE_ID`` and ``ORDERDESK_TEST_API_KEY`` are set (see the README).
"""
