"""What an associate reads when a push needs them: the shop's words, the right article,
no internal key, and what to do. And what needs nobody: the same closing step twice."""

import pytest

from server.core.wording import spoken, with_article
from tests.factories import make_customer, make_request
from tests.sync.helpers import mutation, push


@pytest.mark.parametrize(("phrase", "said"), [
    ("expired request", "an expired request"), ("open request", "an open request"),
    ("in progress request", "an in progress request"), ("ready request", "a ready request"),
    ("admin key", "an admin key"), ("tablet key", "a tablet key"), ("note", "a note"),
])
def test_the_article_follows_the_word(phrase, said):
    assert with_article(phrase) == said


def test_keys_are_spoken_as_words():
    assert spoken("in_progress") == "in progress"


def _request(session, world, **fields):
    actor = world.tablet_a.actor
    return make_request(session, actor, make_customer(session, actor), **fields)


def test_the_same_closing_step_from_two_tablets_is_no_error(client, world, session):
    record = _request(session, world)
    close = {"status": "cancelled", "reason": "customer_cancelled"}
    first = push(client, world.tablet_a, [mutation("request", record.id, close,
                                                   base_version=1)])
    second = push(client, world.tablet_a, [mutation("request", record.id, close,
                                                    base_version=1)])
    assert first[0]["status"] == second[0]["status"] == "applied"
    assert second[0].get("unchanged") is True and second[0]["version"] == first[0]["version"]
    assert "unchanged" not in first[0]


@pytest.mark.parametrize(("fields", "field", "words", "not_said"), [
    ({"status": "open", "reason": "collected"}, "reason", "An open request takes no reason",
     "A open"),
    ({"status": "in_progress", "reason": "collected"}, "reason",
     "An in progress request takes no reason", "in_progress"),
    ({"reason": "collected"}, "reason", "choose the status too, or clear the reason", None),
])
def test_refusals_say_what_to_do_in_plain_words(client, world, session, fields, field, words,
                                                not_said):
    record = _request(session, world)
    [result] = push(client, world.tablet_a, [mutation("request", record.id, fields,
                                                      base_version=1)])
    assert result["status"] == "rejected"
    message = result["errors"][field][0]
    assert words in message
    assert not_said is None or not_said not in message


def test_a_step_a_closed_request_cannot_take_names_the_way_on(client, world, session):
    record = _request(session, world)
    push(client, world.tablet_a, [mutation("request", record.id,
                                           {"status": "expired", "reason": "past_due"},
                                           base_version=1)])
    [result] = push(client, world.tablet_a, [mutation("request", record.id,
                                                      {"status": "ready"}, base_version=2)])
    assert result["errors"]["status"] == [
        "A request that is expired cannot become ready. It is closed: it stays as it is."]
    [edit] = push(client, world.tablet_a, [mutation("request", record.id, {"size": "40"},
                                                    base_version=2)])
    assert "This request is expired already" in edit["errors"]["id"][0]
    assert "A expired" not in edit["errors"]["id"][0]
