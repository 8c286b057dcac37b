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

SHOT="$(curl -sf -H "$AUTH" -H "$JSON" -d "{\"website_id\":\"$SITE\"}" "$BASE/v1/screenshots" | jq -r .id)"
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
RUN="$(curl -sf -X POST -H "$AUTH" "$BASE/v1/scenarios/$SCENARIO/run" | jq -r .id)"
until RUN_JSON="$(curl -sf --retry 10 -H "$AUTH" "$BASE/v1/runs/$RUN")" &&
  [ "$(jq -r .status <<< "$RUN_JSON")" != queued ] && [ "$(jq -r .status <<< "$RUN_JSON")" != running ]; do sleep 1; done
jq -r '.steps[] | "step \(.index) \(.action) \(.status) \(.duration_ms) ms"' <<< "$RUN_JSON"
[ "$(jq -r .status <<< "$RUN_JSON")" = passed ] || { echo "run failed: $(jq -r .error <<< "$RUN_JSON")" >&2; exit 1; }

curl -sf -H "$AUTH" -H "$JSON" -d "{\"website_id\":\"$SITE\",\"cron\":\"0 9 * * 1-5\",\"timezone\":\"Europe/Berlin\"}" \
  "$BASE/v1/schedules" | jq -r '"schedule \(.id) next run \(.next_run_at)"'
