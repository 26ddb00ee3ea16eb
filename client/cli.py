"""`python -m client`: the tablet client from a terminal — argument parsing, and the
mapping of errors to messages and exit codes. Each command is in client.commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from client import config as settings
from client.capture import CONSENT_ACTIONS, CONSENT_CHANNELS, REQUEST_STATUSES, REQUEST_TYPES
from client.commands import (
    attention_list,
    attention_requeue,
    configure,
    conflicts_list,
    conflicts_resolve,
    consent_add,
    crm_pull,
    customer_add,
    customer_edit,
    customer_pick,
    discard,
    lookup,
    note_add,
    note_delete,
    note_edit,
    request_add,
    request_edit,
    request_status,
    status,
    sync,
)
from client.errors import BlackbookError, NotConfigured, Offline, ProblemError
from client.printing import Output

EXIT_ERROR, EXIT_OFFLINE, EXIT_NOT_CONFIGURED = 1, 3, 4  # 2: usage, as argparse


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    out = Output(sys.stdout, sys.stderr)
    try:
        return args.run(args, out) or 0
    except Offline as error:
        out.error(f"offline: {error} Captures are kept; sync again later.")
        return EXIT_OFFLINE
    except NotConfigured as error:
        out.error(str(error))
        return EXIT_NOT_CONFIGURED
    except ProblemError as error:
        out.error(f"the server refused: {error.detail or error.title}", error.errors)
        return EXIT_ERROR
    except BlackbookError as error:
        out.error(str(error), getattr(error, "errors", None))
        return EXIT_ERROR


def _channels(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _arg(*names: str, **options: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    return names, options


_CUSTOMER = [_arg("--family-name"), _arg("--email"), _arg("--phone")]
_REQUEST = [_arg("--sku"), _arg("--description"), _arg("--size"), _arg("--colour"),
            _arg("--category"),
            _arg("--due-date", help="YYYY-MM-DD"), _arg("--quantity", type=int),
            _arg("--notify", dest="notify_channels", type=_channels,
                 help="channels for news of this request, e.g. sms,email")]
_CRITERIA = [_arg("--email"), _arg("--phone", help="any form, or the last 4+ digits"),
             _arg("--name", help="the start of the given or family name")]

# (words, handler, help, arguments): "customer add" is the `add` action of `customer`.
COMMANDS = [
    ("configure", configure, "set the server and this tablet's key", [
        _arg("--server", required=True, help="e.g. https://blackbook.example.com"),
        _arg("--key", required=True, help="the tablet's API key; - reads it from stdin"),
        _arg("--associate", help="associate code recorded as captured_by"),
        _arg("--db", dest="configure_db", metavar="DB",
             help="where to keep this tablet's data (default: tablet.sqlite3 in the home)")]),
    ("customer add", customer_add, "capture a new customer",
     [_arg("--given-name", required=True), *_CUSTOMER]),
    ("customer edit", customer_edit, "change a customer's details",
     [_arg("id"), _arg("--given-name"), *_CUSTOMER]),
    ("customer pick", customer_pick, "hold a customer found by `lookup --remote` here",
     [_arg("id"), *_CRITERIA]),
    ("request add", request_add, "capture what a customer asked for", [
        _arg("--customer", required=True), _arg("--type", required=True, choices=REQUEST_TYPES),
        *_REQUEST]),
    ("request edit", request_edit, "change a request", [_arg("id"), *_REQUEST]),
    ("request status", request_status, "a step in the request's lifecycle", [
        _arg("id"), _arg("status", choices=REQUEST_STATUSES),
        _arg("--reason", help="why it closed: collected, customer_cancelled, ...")]),
    ("note add", note_add, "a note about a customer or a request", [
        _arg("--customer", required=True), _arg("--request"), _arg("body")]),
    ("note edit", note_edit, "change a note", [_arg("id"), _arg("body")]),
    ("note delete", note_delete, "delete a note", [_arg("id")]),
    ("consent add", consent_add, "record what the customer agreed to or withdrew", [
        _arg("--customer", required=True),
        _arg("--purpose", required=True, help="e.g. marketing.newsletter"),
        _arg("--channel", required=True, choices=CONSENT_CHANNELS),
        _arg("--action", required=True, choices=CONSENT_ACTIONS),
        _arg("--method", required=True, help="e.g. customer_on_tablet"),
        _arg("--notice", help="the notice version shown (required to grant)"),
        _arg("--expires-at")]),
    ("lookup", lookup, "find customers on this tablet, or on the server with --remote", [
        *_CRITERIA, _arg("--remote", action="store_true"), _arg("--limit", type=int, default=20)]),
    ("sync", sync, "send the outbox, then pull this store's changes",
     [_arg("--quiet", action="store_true", help="no progress line")]),
    ("status", status, "pending, needing attention, conflicts, last sync", []),
    ("crm-pull", crm_pull, "follow the CRM feed into a JSON Lines file (a crm key)", [
        _arg("--server", required=True), _arg("--out", required=True),
        _arg("--key", help="the CRM key; - reads it from stdin (or $BLACKBOOK_CRM_KEY)"),
        _arg("--checkpoint", help="default: <out>.checkpoint"),
        _arg("--limit", type=int, default=1000), _arg("--pages", type=int)]),
    ("attention list", attention_list, "mutations the server rejected, and why", []),
    ("attention requeue", attention_requeue, "fix a rejected mutation and send it again", [
        _arg("mutation_id"), _arg("--set", action="append", metavar="FIELD=VALUE")]),
    ("attention discard", discard, "give a rejected mutation up", [_arg("mutation_id")]),
    ("conflicts list", conflicts_list, "edits made on an older copy: mine and theirs", []),
    ("conflicts resolve", conflicts_resolve, "keep mine, theirs, or merge the two", [
        _arg("mutation_id"), _arg("--keep", required=True, choices=("mine", "theirs", "merge")),
        _arg("--set", action="append", metavar="FIELD=VALUE",
             help="with --keep merge: the value settled on for a field in conflict")]),
    ("conflicts discard", discard, "give my side of a conflict up entirely",
     [_arg("mutation_id")]),
]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m client", description=(
        "Blackbook on a tablet: capture offline, look customers up, sync."))
    root.add_argument("--home", help=f"settings folder (default ${settings.HOME_ENV} "
                                     "or ~/.blackbook)")
    root.add_argument("--db", help="the tablet's SQLite file (default: as configured)")
    top = root.add_subparsers(required=True, metavar="COMMAND")
    groups: dict[str, Any] = {}
    for words, run, help_text, arguments in COMMANDS:
        *group, name = words.split()
        if group and group[0] not in groups:
            groups[group[0]] = top.add_parser(group[0]).add_subparsers(required=True,
                                                                        metavar="ACTION")
        sub = (groups[group[0]] if group else top).add_parser(name, help=help_text,
                                                               description=help_text)
        sub.set_defaults(run=run)
        for names, options in arguments:
            sub.add_argument(*names, **options)
    return root
