"""Provider sandbox: stand-ins for OpenRouter and OpenAI on one local port.

Routes, with the response shapes, status codes and error texts of the real providers:

- OpenRouter under `/openrouter/api/v1`: `GET /key`, `GET /credits`,
  `POST /chat/completions`, and `GET /models` (public, 200 for anyone).
- OpenAI under `/openai/v1`: `GET /models`, `POST /embeddings`.

An unknown key is rejected as the provider rejects it: OpenRouter returns 401 "User not
found." (401 "No auth credentials found" without an `Authorization` header), and OpenAI
returns 401 `invalid_api_key` with the key masked as OpenAI masks it.

Control routes, which take keys only in the body so that the access log never prints one:

`POST /_sandbox/keys` sets or replaces how the sandbox responds to one key. It returns 200
with the settings (without the key) or 400 naming each invalid field. Fields:

- `key` (required): the key, as sent in `Authorization: Bearer`.
- `provider` (required): `"openrouter"` or `"openai"`.
- `valid` (true): false makes the provider reject the key as unknown.
- `credits` (12.5): the balance in USD that billable calls draw on. A chat completion
  deducts 0.00001 USD and an embedding 0.000001 USD. At zero or below, OpenRouter returns
  402 and OpenAI returns 429 `insufficient_quota`.
- `credits_readable` (true): false makes OpenRouter's `/credits` reject the key with 403,
  as it rejects an ordinary (not management) key.
- `free_tier` (false): OpenRouter's `is_free_tier`, an account that never bought credits.
- `latency_ms` (0, at most 60000): delay before every response to this key.
- `limit` (null): the OpenRouter key's own spending cap in USD; null is no cap.
- `usage` (0): what the OpenRouter key has already spent in USD, counted against `limit`.
- `embeddings` (true): false makes OpenAI's `/embeddings` return 403 missing scopes.
- `models_readable` (true): false makes OpenAI's `/models` return 403 missing scopes, as
  for a restricted key.

Setting a key again starts its spend from zero. `POST /_sandbox/reset` forgets every key
set this way and restores the keys the sandbox started with (the demo keys in
`demo_keys.py`, unless `create_app(preload_demo_keys=False)`). `GET /_sandbox/health`
returns 200 once the server runs.
"""

from __future__ import annotations

from werkzeug.serving import BaseWSGIServer, make_server

from local.sandbox.app import create_app
from local.sandbox.demo_keys import DEMO_KEYS, DemoKey

__all__ = ["DEMO_KEYS", "DemoKey", "create_app", "serve"]


def serve(host: str, port: int) -> BaseWSGIServer:
    """Create the threaded sandbox server with the demo keys; the caller runs `serve_forever`.

    Port 0 picks a free port, and the server's `server_port` attribute contains it.
    """
    return make_server(host, port, create_app(), threaded=True)
