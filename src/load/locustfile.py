"""The load of `scimcheck load`, exported for Locust: an Entra initial cycle
(run {{ run_id }}), for a load that needs more machines than one.

Written by scimcheck {{ version }} for: {{ asked }}.

Run it on one machine (the token comes from the environment, never the file):

    SCIM_TOKEN=... locust -f {{ file }} --headless --host {{ host }} -u {{ concurrency }} -r {{ concurrency }}

On several, with Locust's master/worker mode: every process takes the users
and groups numbered k, k + W, k + 2W, ... where k is SCIMCHECK_WORKER
(default: Locust's worker index) and W is SCIMCHECK_WORKERS (default 1):

    locust -f {{ file }} --master --headless --expect-workers 4 -u {{ concurrency }} -r {{ concurrency }} --host ...
    SCIMCHECK_WORKERS=4 SCIM_TOKEN=... locust -f {{ file }} --worker --master-host ...

The same scenario as `scimcheck load`: per user the match (GET ?filter=userName
eq), the create (POST), one user in ten changed and one in twenty disabled
(PATCH, Entra's "Replace" and "False"); then per group the match
(displayName eq, excludedAttributes=members), the create, empty, its members
added by PATCH, {{ member_batch }} to a request, and a read back that fails
when a member added is missing. The same names
(scimcheck-{{ run_id }}-load-<n>@example.com), so `scimcheck cleanup --run-id
{{ run_id }}` removes whatever a crash left. The same rate split: {{ rate }}
requests a second in all, over {{ concurrency }} Locust users. When the test
stops, every process deletes what it created, the last created first.
"""

import itertools
import json
import logging
import os
import threading

import gevent
import gevent.event
import gevent.lock
import requests
from locust import HttpUser, constant_throughput, events, task
from locust.exception import StopUser
from locust.runners import WorkerRunner

RUN_ID = "{{ run_id }}"
USERS = {{ users }}  # in all, every tenant's
TENANTS = {{ tenants }}
GROUPS = {{ groups }}
MEMBERS = {{ members }}
MEMBER_BATCH = {{ member_batch }}
RATE = {{ rate }}  # requests a second, in all
CONCURRENCY = {{ concurrency }}  # Locust users (-u)
# Requests a user's cycle sends on average (match, create, 1/10 update, 1/20 disable).
REQUESTS_PER_USER = {{ requests_per_user }}

SCIM = "application/scim+json; charset=utf-8"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

# This process's share, its jobs, and what it created (for the cleanup).
state = {"worker": 0, "workers": 1}
created = []
user_ids = {}
lock = threading.Lock()
users_done = gevent.event.Event()
jobs = None
pending_users = 0
running = 0
ending = False
# Held while deleting: a second stop waits for the first cleanup to finish.
cleaning = gevent.lock.Semaphore()


def user_name(n):
    if TENANTS > 1:
        return f"scimcheck-{RUN_ID}-t{n % TENANTS}-load-{n // TENANTS}@example.com"
    return f"scimcheck-{RUN_ID}-load-{n}@example.com"


def group_name(g):
    if TENANTS > 1:
        return f"scimcheck-{RUN_ID}-t{g % TENANTS}-load-group-{g // TENANTS}"
    return f"scimcheck-{RUN_ID}-load-group-{g}"


def member_numbers(g):
    tenant, nth = g % TENANTS, g // TENANTS
    per_tenant = max(1, USERS // TENANTS)
    return [tenant + TENANTS * ((nth * MEMBERS + i) % per_tenant) for i in range(MEMBERS)]


def headers():
    token = os.environ.get("SCIM_TOKEN", "")
    out = {"Accept": "application/scim+json", "Content-Type": SCIM}
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


@events.init.add_listener
def share(environment, **_kwargs):
    global jobs, pending_users
    runner = environment.runner
    index = runner.worker_index if isinstance(runner, WorkerRunner) else 0
    state["worker"] = int(os.environ.get("SCIMCHECK_WORKER", index))
    state["workers"] = max(1, int(os.environ.get("SCIMCHECK_WORKERS", "1")))
    k, w = state["worker"], state["workers"]
    mine = list(range(k, USERS, w))
    pending_users = len(mine)
    if pending_users == 0:
        users_done.set()
    # Users first, then groups: a member is added once the user exists.
    jobs = itertools.chain((("user", n) for n in mine), (("group", g) for g in range(k, GROUPS, w)))


def next_job():
    """The next user or group of this process, or None (and whether every job is done)."""
    global running, ending
    with lock:
        job = next(jobs, None)
        if job is not None:
            running += 1
            return job, False
        # Only the first to find everything done ends the test.
        last = running == 0 and not ending
        ending = ending or last
        return None, last


def job_finished():
    global running
    with lock:
        running -= 1


def user_finished():
    global pending_users
    with lock:
        pending_users -= 1
        if pending_users == 0:
            users_done.set()


class EntraJob(HttpUser):
    """One of the provisioning job's connections."""

    # Each Locust user starts a user's cycle at its share of the rate.
    wait_time = constant_throughput(RATE / REQUESTS_PER_USER / CONCURRENCY)

    @task
    def next_cycle(self):
        job, all_done = next_job()
        if job is None:
            # The last to find nothing left ends the test (one machine; a
            # master ends at its --run-time).
            if all_done:
                gevent.spawn_later(0.1, stop, self.environment)
            raise StopUser()
        kind, n = job
        try:
            if kind == "user":
                try:
                    self.user_cycle(n)
                finally:
                    user_finished()
            else:
                users_done.wait()
                self.group_cycle(n)
        finally:
            job_finished()

    def user_cycle(self, n):
        name = user_name(n)
        found = self.client.get(
            "/Users", params={"filter": f'userName eq "{name}"'}, headers=headers(), name="match (GET ?filter)"
        )
        if found.status_code != 200:
            return
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "active": True,
            "displayName": f"Load user {n}",
            "emails": [{"primary": True, "type": "work", "value": name}],
            "externalId": f"scimcheck-{RUN_ID}-load-{n}",
        }
        made = self.client.post("/Users", data=json.dumps(body), headers=headers(), name="create (POST)")
        if made.status_code != 201:
            return
        user_id = made.json().get("id")
        if not user_id:
            return
        path = f"/Users/{user_id}"
        with lock:
            created.append(path)
            user_ids[n] = user_id
        if n % 10 == 0:
            ops = [{"op": "Replace", "path": "displayName", "value": f"Load user {n} (changed)"}]
            self.patch(path, ops, "update (PATCH)")
        if n % 20 == 0:
            self.patch(path, [{"op": "Replace", "path": "active", "value": "False"}], "disable (PATCH active)")

    def patch(self, path, ops, name):
        body = {"schemas": [PATCH_OP], "Operations": ops}
        return self.client.patch(path, data=json.dumps(body), headers=headers(), name=name)

    def member_id(self, n):
        """A member this process created, or found as Entra would know it."""
        if n in user_ids:
            return user_ids[n]
        found = self.client.get(
            "/Users", params={"filter": f'userName eq "{user_name(n)}"'}, headers=headers(), name="member lookup (GET ?filter)"
        )
        resources = found.json().get("Resources", []) if found.status_code == 200 else []
        return resources[0].get("id") if resources else None

    def group_cycle(self, g):
        name = group_name(g)
        found = self.client.get(
            "/Groups",
            params={"filter": f'displayName eq "{name}"', "excludedAttributes": "members"},
            headers=headers(),
            name="group match (GET ?filter)",
        )
        if found.status_code != 200:
            return
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "externalId": f"scimcheck-{RUN_ID}-load-group-{g}",
        }
        made = self.client.post("/Groups", data=json.dumps(body), headers=headers(), name="group create (POST)")
        if made.status_code != 201 or not made.json().get("id"):
            return
        path = f"/Groups/{made.json()['id']}"
        with lock:
            created.append(path)
        members = [m for m in (self.member_id(n) for n in member_numbers(g)) if m]
        added = set()
        for start in range(0, len(members), MEMBER_BATCH):
            batch = members[start : start + MEMBER_BATCH]
            value = [{"$ref": None, "value": m} for m in batch]
            answer = self.patch(path, [{"op": "Add", "path": "members", "value": value}], "members (PATCH add)")
            if 200 <= answer.status_code < 300:
                added.update(batch)
        if not added:
            return
        with self.client.get(path, headers=headers(), name="group read back (GET)", catch_response=True) as back:
            if back.status_code != 200:
                back.failure(f"answered {back.status_code}")
                return
            present = {m.get("value") for m in back.json().get("members", [])}
            missing = added - present
            if missing:
                back.failure(f"{len(missing)} of the {len(added)} members added are missing")


def stop(environment):
    """Every job is done: clean up, then end the test (one machine; a master
    ends at its --run-time). Cleaning up first, because Locust does not
    wait for a test_stop listener that yields when the stop comes from here."""
    cleanup(environment)
    runner = environment.runner
    if runner is not None and not isinstance(runner, WorkerRunner):
        runner.quit()


@events.test_stop.add_listener
def cleanup(environment, **_kwargs):
    """Deletes what this process created, the last created first."""
    with cleaning:
        delete_created(environment)


def delete_created(environment):
    host = (environment.host or "").rstrip("/")
    with lock:
        mine = list(reversed(created))
        created.clear()
    left = []
    session = requests.Session()
    for path in mine:
        for attempt in range(4):
            try:
                answer = session.delete(host + path, headers=headers(), timeout=30)
                if 200 <= answer.status_code < 300 or answer.status_code == 404:
                    break
                if answer.status_code < 500:
                    left.append(f"{path}: answered {answer.status_code}")
                    break
            except requests.RequestException as e:
                if attempt == 3:
                    left.append(f"{path}: {e}")
                    break
            gevent.sleep(0.1 * 2**attempt)
        else:
            left.append(f"{path}: still failing")
    logging.info(f"scimcheck cleanup (process {state['worker']}): deleted {len(mine) - len(left)}, left {len(left)}")
    for line in left:
        logging.warning(f"scimcheck cleanup left {line}")
    if left:
        environment.process_exit_code = 1
