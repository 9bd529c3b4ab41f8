"""Compares a scimcheck JSON report of a run against a real server
(scim2-server, django-scim2-server, canaille) with the outcome expected of it.

Usage: scim2_server_check.py REPORT.json EXPECTED.json
Exits 1, saying what differs, unless every scenario passed but the expected
failures (each at its expected step: `failed` maps a scenario to its one
failing step, or lists every failing `scenario › step`), the advice is
exactly the expected advice, nothing was skipped but the expected skips,
the steps not run are exactly the expected ones (with their reasons), the
expected stand-ins ran, and each profile's readiness is as expected. A step
listed under `either` (with why) may pass or fail: its outcome rests on the
server's clock. A reproducer of the run's exploration listed under
`explored` (with the deviation it shows; a name ending in `*` stands for
every name it begins) may fail or not: a search that
meets a race first spends its budget otherwise; one not listed fails the
check, as any unexpected failure does.
"""

import json
import sys


def main() -> int:
    report = json.load(open(sys.argv[1]))
    expected = json.load(open(sys.argv[2]))
    problems = []

    failed = {}
    failing = set()
    advice = set()
    skipped = []
    not_run = {}
    ran = set()
    for scenario in report["scenarios"]:
        name = scenario["name"]
        if scenario["outcome"] == "skipped":
            skipped.append(f"{name}: {scenario.get('reason')}")
        for step in scenario["steps"]:
            place = f"{name} › {step['id']}"
            reason = step.get("not_run") or ""
            # A stand-in not needed is no requirement left unassessed.
            if step.get("status") == "not_run" and not reason.startswith("not needed"):
                not_run[place] = reason
            if step.get("status") != "not_run":
                ran.add(place)
            if step["failures"]:
                failed[name] = step["id"]
                failing.add(place)
            if step["advice"]:
                advice.add(f"{name} › {step['id']}")
    # Steps whose outcome rests on the server's clock, not on scimcheck (each
    # with why): either outcome is the expected one.
    either = set(expected.get("either", {}))
    # An `explored` name may end in `*`: the check, whatever attributes the
    # generated request it was met with wrote besides.
    explored = expected.get("explored", {})

    def known(place):
        return any(
            place == e or (e.endswith("*") and place.startswith(e[:-1])) for e in explored
        )

    either |= {place for place in failing if known(place)}
    either |= {f"{n} › {s}" for n, s in failed.items() if known(f"{n} › {s}")}
    failing -= either
    failed = {name: step for name, step in failed.items() if f"{name} › {step}" not in either}
    if sorted(skipped) != sorted(expected.get("skipped", [])):
        problems.append(f"skipped differs: got {skipped}, expected {expected.get('skipped', [])}")
    if isinstance(expected["failed"], list):
        for place in sorted(failing - set(expected["failed"])):
            problems.append(f"unexpected failure: {place}")
        for place in sorted(set(expected["failed"]) - failing):
            problems.append(f"expected failure did not happen: {place}")
    else:
        for name, step in sorted(failed.items()):
            if expected["failed"].get(name) != step:
                problems.append(f"unexpected failure: {name} › {step}")
        for name, step in sorted(expected["failed"].items()):
            if failed.get(name) != step:
                problems.append(f"expected failure did not happen: {name} › {step}")
    if advice != set(expected["advice"]):
        problems.append(
            f"advice differs: new {sorted(advice - set(expected['advice']))}, "
            f"gone {sorted(set(expected['advice']) - advice)}"
        )
    if not_run != expected["not_run"]:
        problems.append(f"steps not run differ: got {not_run}, expected {expected['not_run']}")
    for place in expected["stood_in"]:
        if place not in ran:
            problems.append(f"the stand-in {place} did not run")
    ready = {v["profile"]: v["ready"] for v in report["verdicts"]}
    if ready != expected["ready"]:
        problems.append(f"readiness differs: got {ready}, expected {expected['ready']}")

    scenarios = len(report["scenarios"])
    server = expected.get("server", "scim2-server")
    if problems:
        print(f"scimcheck against {server}: not the expected outcome")
        for problem in problems:
            print(f"  - {problem}")
        print(f"Either scimcheck changed (a false positive or negative?) or {server} did;")
        print("check each against the RFC and update docs/interop.md with the expectation.")
        return 1
    print(
        f"scimcheck against {server}: as expected, {scenarios} scenarios, "
        f"{len(failing)} known deviations failing, {len(advice)} advice, readiness {ready}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
