"""Access for the interop run: the bearer token SCIM_TOKEN names."""

import hmac
import os


def check(request):
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given, "Bearer " + os.environ["SCIM_TOKEN"])
