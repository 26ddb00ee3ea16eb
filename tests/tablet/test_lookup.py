"""The app's lookup rules, in the browser: phone in any form or its last digits, names
case and accent blind, a number captured offline (not yet in E.164) found by its
international form, and "is this them?" candidates."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

CUSTOMERS = [
    {"id": "a", "given_name": "Zoë", "family_name": "Martin", "email": "zoe@example.com",
     "phone": "+447911123456"},
    {"id": "b", "given_name": "Anne-Marie", "family_name": "de la Tour", "email": None,
     "phone": "07911 650123"},  # captured offline, as typed: the server has not normalised it
    {"id": "c", "given_name": "Bob", "family_name": "Smith", "email": "BOB@Example.com",
     "phone": "+33612345678"},
]
FIND = """async ([customers, searches]) => {
  const { CustomerIndex } = await import('/tablet/js/lookup.js');
  const index = new CustomerIndex(); index.region = 'GB'; index.build(customers);
  return searches.map((text) => index.search(text).sort()); }"""


CASES = [
    ("07911 123456", ["a"]), ("+44 7911 123456", ["a"]), ("0044 7911 123456", ["a"]),
    ("(07911) 123-456", ["a"]), ("3456", ["a"]), ("0123", ["b"]), ("+447911650123", ["b"]),
    ("07911 650123", ["b"]), ("+33 6 12 34 56 78", ["c"]), ("5678", ["c"]), ("123", []),
    ("zoe", ["a"]), ("ZOË MAR", ["a"]), ("mart", ["a"]), ("tour", ["b"]), ("la tour", ["b"]),
    ("anne-m", ["b"]), ("bob@example.com", ["c"]), ("bob@", ["c"]), ("zoe@example.co", ["a"]),
    ("nobody", []), ("", []),
]


def test_the_search_box_finds_by_number_in_any_form_name_or_email(live_server, browser):
    page = browser.new_page()
    page.goto(f"{live_server}/tablet/")
    found = page.evaluate(FIND, [CUSTOMERS, [typed for typed, _ in CASES]])
    page.close()
    wrong = [(typed, expected, got) for (typed, expected), got in zip(CASES, found, strict=True)
             if expected != got]
    assert not wrong


def test_is_this_them_offers_people_sharing_the_email_number_or_name(live_server, browser):
    page = browser.new_page()
    page.goto(f"{live_server}/tablet/")
    found = page.evaluate("""async (customers) => {
      const { CustomerIndex } = await import('/tablet/js/lookup.js');
      const index = new CustomerIndex(); index.region = 'GB'; index.build(customers);
      index.update('c', customers[2], null);  // forgotten (erased): no longer offered
      return [index.candidates({given_name: 'Zoe', family_name: 'Martin'}),
              index.candidates({given_name: 'X', phone: '07911 650 123'}),
              index.candidates({given_name: 'Y', email: 'ZOE@example.com'}),
              index.candidates({given_name: 'Bob', family_name: 'Smith'})]; }""", CUSTOMERS)
    page.close()
    assert found == [["a"], ["b"], ["a"], []]
