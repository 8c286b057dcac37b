#!/usr/bin/env bash
# The SnapTrack API with curl and jq. Scratch files go to a temporary directory.
set -euo pipefail
BASE="${SNAPTRACK_URL:-http://127.0.0.1:8787}"
TARGET="${TARGET_URL:-http://127.0.0.1:8000/}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# A token: the one given, or a new account's (what a user does in the dashboard).
if [ -z "${SNAPTRACK_TOKEN:-}" ]; then
  curl -sf -c "$WORK/jar" -H 'content-type: application/json' \
    -d "{\"email\":\"sh.$(date +%s%N)@example.com\",\"password\":\"a long example password\",\"name\":\"sh\"}" \
    "$BASE/auth/signup" > /dev/null
  # The API needs Starter or higher (a stand-in for billing).
  curl -sf -b "$WORK/jar" -X PUT -H 'content-type: application/json' -d '{"plan":"pro"}' "$BASE/account/plan" > /dev/null
  SNAPTRACK_TOKEN="$(curl -sf -b "$WORK/jar" -X POST "$BASE/account/api-token" | jq -r .token)"
fi
AUTH="authorization: Bearer $SNAPTRACK_TOKEN"
JSON="content-type: application/json"

SITE="$(curl -sf -H "$AUTH" -H "$JSON" -d "{\"name\":\"Example\",\"url\":\"$TARGET\"}" "$BASE/v1/websites" | jq -r .id)"
echo "website $SITE"

# Prefer: wait answers when the capture has ended (up to 30 s), so there is little to poll.
SHOT="$(curl -sf -H "$AUTH" -H "$JSON" -H 'prefer: wait=30' -d "{\"website_id\":\"$SITE\"}" "$BASE/v1/screenshots" | jq -r .id)"
# --retry: a 429 (the plan's requests per minute) is retried after its Retry-After.
until SHOT_JSON="$(curl -sf --retry 10 -H "$AUTH" "$BASE/v1/screenshots/$SHOT")" &&
  STATUS="$(jq -r .status <<< "$SHOT_JSON")" && [ "$STATUS" != queued ] && [ "$STATUS" != processing ]; do sleep 1; done
[ "$STATUS" = completed ] || { echo "screenshot $STATUS: $(jq -r .error <<< "$SHOT_JSON")" >&2; exit 1; }
echo "screenshot $SHOT completed"

# -f: an error answer (409 while not completed, 404) fails instead of being saved as the image.
curl -sf -H "$AUTH" -o "$WORK/shot.png" "$BASE/v1/screenshots/$SHOT/download"
echo "saved $(wc -c < "$WORK/shot.png") bytes"

SCENARIO="$(curl -sf -H "$AUTH" -H "$JSON" "$BASE/v1/scenarios" -d "{\"website_id\":\"$SITE\",\"name\":\"Smoke test\",
  \"steps\":[{\"action\":\"wait_for_selector\",\"selector\":\"body\",\"state\":\"attached\"},{\"action\":\"screenshot\",\"name\":\"home\"}]}" | jq -r .id)"
RUN="$(curl -sf -X POST -H "$AUTH" -H 'prefer: wait=30' "$BASE/v1/scenarios/$SCENARIO/run" | jq -r .id)"
until RUN_JSON="$(curl -sf --retry 10 -H "$AUTH" "$BASE/v1/runs/$RUN")" &&
  [ "$(jq -r .status <<< "$RUN_JSON")" != queued ] && [ "$(jq -r .status <<< "$RUN_JSON")" != running ]; do sleep 1; done
jq -r '.steps[] | "step \(.index) \(.action) \(.status) \(.duration_ms) ms"' <<< "$RUN_JSON"
[ "$(jq -r .status <<< "$RUN_JSON")" = passed ] || { echo "run failed: $(jq -r .error <<< "$RUN_JSON")" >&2; exit 1; }

curl -sf -H "$AUTH" -H "$JSON" -d "{\"website_id\":\"$SITE\",\"cron\":\"0 9 * * 1-5\",\"timezone\":\"Europe/Berlin\"}" \
  "$BASE/v1/schedules" | jq -r '"schedule \(.id) next run \(.next_run_at)"'

# Change detection: every website capture is compared with the previous one (the defaults).
AGAIN="$(curl -sf -H "$AUTH" -H "$JSON" -H 'prefer: wait=30' -d "{\"website_id\":\"$SITE\"}" "$BASE/v1/screenshots" | jq -r .id)"
until AGAIN_JSON="$(curl -sf --retry 10 -H "$AUTH" "$BASE/v1/screenshots/$AGAIN")" &&
  jq -e '(.status == "completed" or .status == "failed") and (.comparison.status // "") != "pending"' <<< "$AGAIN_JSON" > /dev/null; do
  sleep 1
done
jq -r '"comparison with \(.comparison.baseline_id) changed: \(.comparison.changed)"' <<< "$AGAIN_JSON"
curl -sf --retry 10 -H "$AUTH" "$BASE/v1/websites/$SITE/changes" | jq -r '"changes \(.data | length)"'

# Text changes: the page's words are compared too. comparison.text lists the lines added and
# removed since the baseline; GET /v1/screenshots/{id}/text is a capture's whole text.
PRICES="$(curl -sf --retry 10 -H "$AUTH" -H "$JSON" \
  -d "{\"name\":\"Prices\",\"url\":\"${CHANGING_URL:-$TARGET}\"}" "$BASE/v1/websites" | jq -r .id)"
captured() { # a capture of website $1, waited for (Prefer: wait), then its comparison
  local id
  id="$(curl -sf --retry 10 -H "$AUTH" -H "$JSON" -H 'prefer: wait=30' -d "{\"website_id\":\"$1\"}" "$BASE/v1/screenshots" | jq -r .id)"
  until SHOT_JSON="$(curl -sf --retry 10 -H "$AUTH" "$BASE/v1/screenshots/$id")" &&
    jq -e '(.status == "completed" or .status == "failed") and (.comparison.status // "") != "pending"' <<< "$SHOT_JSON" > /dev/null; do
    sleep 1
  done
}
captured "$PRICES"
captured "$PRICES"
jq -r '"text changed: \(.comparison.text.changed // "not compared")", (.comparison.text.added // [] | .[] | "  + \(.)"), (.comparison.text.removed // [] | .[] | "  - \(.)")' <<< "$SHOT_JSON"
curl -sf --retry 10 -H "$AUTH" "$BASE/v1/screenshots/$(jq -r .id <<< "$SHOT_JSON")/text" | head -c 60 | jq -Rs '"text: \(.)"' -r
if [ -n "${CHANGING_URL:-}" ]; then jq -e '.comparison.text.changed' <<< "$SHOT_JSON" > /dev/null; fi

# Webhooks: a receiver (here a one-shot local server in python3; yours is public and https)
# writes the request's headers and body; the signature is checked with openssl.
python3 - "$WORK" <<'PY' &
import http.server, sys
work = sys.argv[1]
class R(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        open(f"{work}/hook.body", "wb").write(body)
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            open(f"{work}/{name}", "w").write(self.headers[name])
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), R)
server.timeout = 60  # give up if nothing arrives
open(f"{work}/port.tmp", "w").write(str(server.server_port))
__import__("os").rename(f"{work}/port.tmp", f"{work}/port")
server.handle_request()
PY
RECEIVER=$!
until [ -s "$WORK/port" ]; do sleep 0.1; done
# --retry: a 429 (the plan's requests per minute) created nothing, so sending again is safe.
HOOK_JSON="$(curl -sf --retry 10 -H "$AUTH" -H "$JSON" -d "{\"url\":\"http://127.0.0.1:$(cat "$WORK/port")/snaptrack\"}" "$BASE/v1/webhooks")"
curl -sf --retry 10 -X POST -H "$AUTH" -H "Idempotency-Key: test-$(date +%s%N)" \
  "$BASE/v1/webhooks/$(jq -r .id <<< "$HOOK_JSON")/test" > /dev/null
wait "$RECEIVER"
# Standard Webhooks: base64(HMAC-SHA256(key = the secret's bytes, "id.timestamp.body")).
KEY_HEX="$(jq -r .secret <<< "$HOOK_JSON" | sed 's/^whsec_//' | base64 -d | od -An -tx1 -v | tr -d ' \n')"
EXPECTED="$({ printf '%s.%s.' "$(cat "$WORK/webhook-id")" "$(cat "$WORK/webhook-timestamp")"; cat "$WORK/hook.body"; } |
  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY_HEX" -binary | base64)"
tr ' ' '\n' < "$WORK/webhook-signature" | grep -qxF "v1,$EXPECTED" || { echo "webhook signature does not verify" >&2; exit 1; }
echo "webhook $(cat "$WORK/webhook-id") $(jq -r .type "$WORK/hook.body") signature verified"
