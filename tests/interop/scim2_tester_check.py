"""Runs the independent SCIM checker scim2-tester against a running server.

Usage: scim2_tester_check.py BASE_URL TOKEN
Prints every check that is not a success, then a closing line
`scim2-tester: N passed, N failed`; exits 1 on any ERROR or CRITICAL.
"""

import sys
from collections import Counter

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

FAILING = {Status.ERROR, Status.CRITICAL}
PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    results = check_server(SyncSCIMClient(http))
    counts = Counter(r.status.name for r in results)
    for r in results:
        if r.status not in PASSING and r.status != Status.SKIPPED:
            print(f"{r.status.name} {r.resource_type or ''} {r.title}: {r.reason}")
    print("scim2-tester statuses:", dict(sorted(counts.items())))
    passed = sum(1 for r in results if r.status in PASSING)
    failed = sum(1 for r in results if r.status in FAILING)
    print(f"scim2-tester: {passed} passed, {failed} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
