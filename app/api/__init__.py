"""The local REST API: FastAPI on uvicorn, over the same operations as the window and the CLI.

Off until the user turns it on (``api.enabled``); bound to 127.0.0.1; every endpoint but
``/api/v1/health`` (and the documentation) wants this install's bearer token.
"""
