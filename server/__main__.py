"""`python -m server`: the embedded default — migrate, seed demo data, print, serve.

Listens on 127.0.0.1:5000 (BLACKBOOK_HOST / BLACKBOOK_PORT to change). For
production use gunicorn and PostgreSQL (see README).
"""

from __future__ import annotations

import logging

from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from server import config, create_app
from server.dashboard import search_index
from server.demo import demo_dashboard_login, demo_tablet_key, seed
from server.extensions import db


def main() -> None:
    host, port = config.listen_address()
    app = create_app()
    with app.app_context():
        upgrade()
        made = seed(db.session)
        token = demo_tablet_key(db.session, made["LDN-01"])
        email, password = demo_dashboard_login(db.session)
        db.session.commit()
    base = f"http://{host}:{port}"
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    # Werkzeug's access log prints query strings, which can hold emails and phone numbers.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(f"""
Blackbook is running (demo data loaded) on {database}
  API:          {base}/api/v1/
  API docs:     {base}/api/v1/docs/
  OpenAPI spec: {base}/api/v1/openapi.json
  Health:       {base}/healthz
  Tablet app:   {base}/tablet/#enrol={token}   (opens enrolled with the demo key)
  Dashboard:    {base}/dashboard/   (log in as {email}, password {password} — new each start)
Demo tablet key (store LDN-01), shown once:
  {token}
Try:
  curl -H "Authorization: Bearer {token}" {base}/api/v1/requests
""", flush=True)
    search_index.keep_up_for(app)
    app.run(host=host, port=port, threaded=True)


if __name__ == "__main__":
    main()
