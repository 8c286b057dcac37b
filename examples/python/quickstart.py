"""The SnapTrack API from Python, with the standard library only (urllib, json)."""
import json
import os
import tempfile
import time
import urllib.error
import urllib.request

BASE = os.environ.get("SNAPTRACK_URL", "http://127.0.0.1:8787")
TARGET = os.environ.get("TARGET_URL", "http://127.0.0.1:8000/")


def call(method, path, body=None, headers=None, raw=False):
    """One request; raises with the API's error envelope on any 4xx/5xx."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("content-type", "application/json")
    for _ in range(10):
        try:
            with urllib.request.urlopen(req) as res:
                payload = res.read()
                return (payload if raw else json.loads(payload or b"null")), res.headers
        except urllib.error.HTTPError as err:
            if err.code == 429:  # the plan's requests per minute: wait as the answer says
                time.sleep(int(err.headers.get("retry-after", "1")))
                continue
            raise RuntimeError(f"{method} {path} -> {err.code}: {err.read().decode()}") from None
    raise RuntimeError(f"{method} {path}: still rate limited")


def get_token():
    """The token given, or a new account's (what a user does in the dashboard)."""
    if os.environ.get("SNAPTRACK_TOKEN"):
        return os.environ["SNAPTRACK_TOKEN"]
    email = f"py.{time.time_ns()}@example.com"
    _, headers = call("POST", "/auth/signup", {"email": email, "password": "a long example password", "name": "Py"})
    session = {"cookie": headers["set-cookie"].split(";")[0]}
    call("PUT", "/account/plan", {"plan": "pro"}, session)  # the API needs Starter or higher
    token, _ = call("POST", "/account/api-token", headers=session)
    return token["token"]


auth = {"authorization": "Bearer " + get_token()}

website, _ = call("POST", "/v1/websites", {"name": "Example", "url": TARGET}, auth)
print("website", website["id"])

shot, _ = call("POST", "/v1/screenshots", {"website_id": website["id"]}, auth)
while shot["status"] in ("queued", "processing"):
    time.sleep(1)
    shot, _ = call("GET", f"/v1/screenshots/{shot['id']}", headers=auth)
if shot["status"] != "completed":
    raise SystemExit(f"screenshot {shot['status']}: {shot['error']}")
print("screenshot", shot["id"], f"{shot['width']}x{shot['height']}", shot["format"])

image, _ = call("GET", f"/v1/screenshots/{shot['id']}/download", headers=auth, raw=True)
path = os.path.join(tempfile.mkdtemp(prefix="snaptrack-"), f"{shot['id']}.{shot['format']}")
with open(path, "wb") as f:
    f.write(image)
print("saved", path, len(image), "bytes")

steps = [{"action": "wait_for_selector", "selector": "body", "state": "attached"}, {"action": "screenshot", "name": "home"}]
scenario, _ = call("POST", "/v1/scenarios", {"website_id": website["id"], "name": "Smoke test", "steps": steps}, auth)
run, _ = call("POST", f"/v1/scenarios/{scenario['id']}/run", headers=auth)
while run["status"] in ("queued", "running"):
    time.sleep(1)
    run, _ = call("GET", f"/v1/runs/{run['id']}", headers=auth)
for step in run["steps"]:
    print("step", step["index"], step["action"], step["status"], f"{step['duration_ms']} ms")
if run["status"] != "passed":
    raise SystemExit(f"run {run['status']}: {run['error']}")

schedule, _ = call(
    "POST", "/v1/schedules", {"website_id": website["id"], "cron": "0 9 * * 1-5", "timezone": "Europe/Berlin"}, auth
)
print("schedule", schedule["id"], "next run", schedule["next_run_at"])
