"""The contact policy ("don't cross the line"), the contacts made, and follow-up tasks."""
