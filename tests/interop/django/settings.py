"""A minimal Django project serving django-scim2-server under /scim/v2, for
scimcheck's interop check: SQLite in the run's temporary folder, and a
bearer token from the environment in place of Django's own login."""

import os

SECRET_KEY = "scimcheck-interop-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django_scim2_server"]
MIDDLEWARE = []
ROOT_URLCONF = "urls"
# Concurrent writes (Entra sends them) wait for SQLite's lock rather than fail
# with "database is locked": the deployment Django documents for SQLite.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["SCIM_DB"],
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
USE_TZ = True
SCIM2_SERVER_AUTH_CHECK = "bearer.check"
