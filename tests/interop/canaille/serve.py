"""Serves canaille's SCIM API on a loopback port, for scimcheck's interop test.

Usage: serve.py PORT. The bearer token comes from SCIM_TOKEN and the SQLite
file from SCIM_DB. canaille only takes tokens of an OAuth client with the
client_credentials grant, so one such client and one token are stored before
serving.
"""

import datetime
import os
import sys

from werkzeug.security import gen_salt
from werkzeug.serving import run_simple

from canaille import create_app
from canaille.app import models
from canaille.backends import Backend


def configuration():
    return {
        "SECRET_KEY": gen_salt(32),
        "SERVER_NAME": None,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "CANAILLE": {"NAME": "scimcheck interop"},
        "CANAILLE_SQL": {"DATABASE_URI": f"sqlite:///{os.environ['SCIM_DB']}", "AUTO_MIGRATE": True},
        "CANAILLE_OIDC": {},
        "CANAILLE_SCIM": {"ENABLE_SERVER": True},
    }


def store_token(backend, token):
    now = datetime.datetime.now(datetime.timezone.utc)
    client = models.Client(
        client_id=gen_salt(24),
        client_name="scimcheck",
        client_id_issued_at=now,
        client_secret=gen_salt(48),
        grant_types=["client_credentials"],
        response_types=["token"],
        scope=["openid"],
        token_endpoint_auth_method="client_secret_basic",
    )
    backend.save(client)
    backend.save(
        models.Token(
            token_id=gen_salt(48),
            access_token=token,
            audience=[client],
            client=client,
            refresh_token=gen_salt(48),
            scope=["openid"],
            issue_date=now,
            lifetime=24 * 3600,
        )
    )


def main():
    port = int(sys.argv[1])
    app = create_app(configuration())
    with app.app_context():
        with Backend.instance.session():
            store_token(Backend.instance, os.environ["SCIM_TOKEN"])
    run_simple("127.0.0.1", port, app, use_reloader=False, threaded=False)


if __name__ == "__main__":
    main()
