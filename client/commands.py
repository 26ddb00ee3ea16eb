"""What each command of `python -m client` does: open the tablet, call the library,
print through Output."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from client import config as settings
from client import crm, outbox, remote
from client.errors import BlackbookError
from client.printing import Output
from client.sync import SyncEngine, bind
from client.tablet import Tablet
from client.transport import Transport

EXIT_USAGE = 2
CRM_KEY_ENV = "BLACKBOOK_CRM_KEY"


def _open(args: argparse.Namespace) -> Tablet:
    home = settings.home_dir(args.home)
    config = settings.load(home)
    return Tablet.open(config, db=args.db)


def configure(args: argparse.Namespace, out: Output) -> int | None:
    key = sys.stdin.readline().strip() if args.key == "-" else args.key
    home = settings.home_dir(args.home)
    db = args.configure_db or args.db or str(home / settings.DB_FILE)
    config = settings.Config(args.server.rstrip("/"), key, Path(db).resolve(),
                             args.associate)
    tablet = Tablet.open(config)
    with tablet:
        bind(tablet.store, tablet.api)  # checks the key before saving it
        store_code = tablet.store.state("store_code")
    path = settings.save(home, config)
    out.line(f"configured for store {store_code}: settings in {path}, data in {config.db}")


def customer_add(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        fields = _present(args, "family_name", "email", "phone")
        out.line(tablet.capture.customer(args.given_name, **fields).record_id)


def customer_edit(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        fields = _present(args, "given_name", "family_name", "email", "phone")
        out.line(tablet.capture.edit_customer(args.id, **fields).mutation_id)


def customer_pick(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        out.customers([remote.pick(tablet.store, tablet.api, args.id)])


def request_add(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        fields = _present(args, "sku", "description", "size", "colour", "category", "quantity",
                          "due_date", "notify_channels")
        out.line(tablet.capture.request(args.customer, args.type, **fields).record_id)


def request_edit(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        fields = _present(args, "sku", "description", "size", "colour", "category", "quantity",
                          "due_date", "notify_channels")
        out.line(tablet.capture.edit_request(args.id, **fields).mutation_id)


def request_status(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        out.line(tablet.capture.request_status(args.id, args.status, args.reason).mutation_id)


def note_add(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        out.line(tablet.capture.note(args.customer, args.body, args.request).record_id)


def note_edit(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        out.line(tablet.capture.edit_note(args.id, args.body).mutation_id)


def note_delete(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        out.line(tablet.capture.delete_note(args.id).mutation_id)


def consent_add(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        captured = tablet.capture.consent(
            args.customer, args.purpose, args.channel, args.action, method=args.method,
            notice_version_id=args.notice, expires_at=args.expires_at)
        out.line(captured.record_id)


def lookup(args: argparse.Namespace, out: Output) -> int | None:
    criteria = {k: v for k, v in (("email", args.email), ("phone", args.phone),
                                  ("name", args.name)) if v}
    if not criteria:
        out.error("give --email, --phone or --name")
        return EXIT_USAGE
    with _open(args) as tablet:
        if args.remote:
            found = remote.find(tablet.store, tablet.api, criteria, args.limit)
        else:
            found = tablet.store.find_customers(criteria, args.limit)
        out.customers(found)
    return None


def sync(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        engine = SyncEngine(tablet.store, tablet.api, progress=None if args.quiet
                            else out.progress)
        report = engine.sync()
        out.sync_report(report, tablet.store.counts())


def crm_pull(args: argparse.Namespace, out: Output) -> int | None:
    """Follow the CRM feed into JSON Lines; a crash and re-run neither skips nor repeats."""
    key = sys.stdin.readline().strip() if args.key == "-" else (
        args.key or os.environ.get(CRM_KEY_ENV, ""))
    if not key:
        raise BlackbookError(f"Give the CRM key with --key (- reads stdin) or ${CRM_KEY_ENV}.")
    output = Path(args.out)
    checkpoint = Path(args.checkpoint) if args.checkpoint else \
        output.with_name(output.name + ".checkpoint")
    transport = Transport(args.server.rstrip("/"), key)
    try:
        done = crm.follow(transport, output, checkpoint, limit=args.limit,
                          max_pages=args.pages,
                          progress=lambda d: out.progress("feed", d.changes, None))
    finally:
        transport.close()
    out.line(f"{done.changes} changes in {done.pages} pages appended to {output}"
             + (" (the feed asked for a resync: started again from a snapshot)"
                if done.restarted else ""))
    return None


def status(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        out.status(tablet.config, tablet.store)


def attention_list(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        out.waiting(tablet.store.outbox("attention"))


def attention_requeue(args: argparse.Namespace, out: Output) -> int | None:
    fixes = dict(_assignment(text) for text in args.set or [])
    with _open(args) as tablet:
        out.line(outbox.requeue(tablet.store, args.mutation_id, fixes))


def discard(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        outbox.discard(tablet.store, args.mutation_id)
        out.line(f"discarded {args.mutation_id}")


def conflicts_list(args: argparse.Namespace, out: Output) -> int | None:
    with _open(args) as tablet:
        out.waiting(tablet.store.outbox("conflict"))


def conflicts_resolve(args: argparse.Namespace, out: Output) -> int | None:
    values = dict(_assignment(text) for text in args.set or []) or None
    if (values is None) == (args.keep == "merge"):
        raise BlackbookError("--set FIELD=VALUE goes with --keep merge (and only with it)")
    with _open(args) as tablet:
        try:
            new_id = outbox.resolve(tablet.store, args.mutation_id, args.keep, values)
        except ValueError as error:
            raise BlackbookError(str(error)) from error
        out.line(new_id or f"resolved {args.mutation_id}: nothing left to send")


def _present(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _assignment(text: str) -> tuple[str, Any]:
    """FIELD=VALUE; an empty VALUE clears the field."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise BlackbookError(f"--set takes FIELD=VALUE, not {text!r}")
    return name, value or None
