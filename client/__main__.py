"""`python -m client …` — see client.cli."""

from client.cli import main

raise SystemExit(main())
