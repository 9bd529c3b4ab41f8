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
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["SCIM_DB"]}}
USE_TZ = True
SCIM2_SERVER_AUTH_CHECK = "bearer.check"
