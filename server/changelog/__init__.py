"""The one ordered change log every write appends to (DESIGN.md "change and cursor")."""
