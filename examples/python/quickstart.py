"""The SnapTrack API from Python, with the standard library only (urllib, json)."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import tempfile
import threading
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

# Change detection: every website capture is compared with the previous one (the defaults).
again, _ = call("POST", "/v1/screenshots", {"website_id": website["id"]}, auth)
while again["status"] in ("queued", "processing") or (again.get("comparison") or {}).get("status") == "pending":
    time.sleep(1)
    again, _ = call("GET", f"/v1/screenshots/{again['id']}", headers=auth)
comparison = again.get("comparison") or {}
print("comparison with", comparison.get("baseline_id"), "changed:", comparison.get("changed"))
changes, _ = call("GET", f"/v1/websites/{website['id']}/changes", headers=auth)
print("changes", len(changes["data"]))

# Text changes: the page's words are compared too. comparison.text lists the lines added and
# removed since the baseline; GET /v1/screenshots/{id}/text is a capture's whole text.
prices, _ = call("POST", "/v1/websites", {"name": "Prices", "url": os.environ.get("CHANGING_URL", TARGET)}, auth)


def captured(website_id):
    """A capture, waited for (Prefer: wait), then its comparison."""
    shot, _ = call("POST", "/v1/screenshots", {"website_id": website_id}, {**auth, "prefer": "wait=30"})
    while shot["status"] in ("queued", "processing") or (shot.get("comparison") or {}).get("status") == "pending":
        time.sleep(1)
        shot, _ = call("GET", f"/v1/screenshots/{shot['id']}", headers=auth)
    return shot


captured(prices["id"])
later = captured(prices["id"])
text = (later.get("comparison") or {}).get("text")
print("text changed:", text["changed"] if text else "not compared")
for line in (text or {}).get("added", []):
    print("  +", line)
for line in (text or {}).get("removed", []):
    print("  -", line)
words, _ = call("GET", f"/v1/screenshots/{later['id']}/text", headers=auth, raw=True)
print("text of", later["id"], json.dumps(words.decode()[:60], ensure_ascii=False))
if os.environ.get("CHANGING_URL") and not (text or {}).get("changed"):
    raise SystemExit("the changing page's text diff is missing")


def verify_webhook(secret, headers, body, tolerance=300):
    """Standard Webhooks: HMAC-SHA256 of "id.timestamp.body" with the secret's bytes, base64."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        raise ValueError("webhook timestamp too old or too new")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # Several signatures (space-separated) during a secret rotation: any one may match.
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return json.loads(body)
    raise ValueError("no valid webhook signature")


# Webhooks: a receiver (here a local one-shot server; yours is public and https).
arrived = {}


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        arrived["body"] = self.rfile.read(int(self.headers["content-length"]))
        arrived["headers"] = {k.lower(): v for k, v in self.headers.items()}
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
listener = threading.Thread(target=server.handle_request)
listener.start()
hook, _ = call("POST", "/v1/webhooks", {"url": f"http://127.0.0.1:{server.server_port}/snaptrack"}, auth)
call("POST", f"/v1/webhooks/{hook['id']}/test", headers=auth)
listener.join(timeout=60)
server.server_close()
event = verify_webhook(hook["secret"], arrived["headers"], arrived["body"])
print("webhook", arrived["headers"]["webhook-id"], event["type"], "signature verified")
