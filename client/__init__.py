"""The Blackbook tablet client: what a tablet app (or a CRM integration) embeds.

- `transport` — one HTTP session with timeouts, retries and typed errors (`errors`);
  `api` — the server's API v1 as a tablet uses it.
- `store` — the tablet's SQLite file (`schema`): cached records, the outbox, sync
  state; `overlay` (what the tablet shows), `lookup` and `normalise` (finding
  customers locally), `cache` (applying pulled changes).
- `capture` — what an associate records, offline or not; `outbox` — what waits
  for the server, and the associate's decisions on what it refused.
- `sync` — the engine that pushes the outbox and pulls the store's changes.
- `remote` — finding and picking a customer the tablet does not hold yet.
- `cli` / `commands` / `printing` / `config` — `python -m client`.

It depends on `requests` and `phonenumbers` only, and imports nothing of the server.
"""
