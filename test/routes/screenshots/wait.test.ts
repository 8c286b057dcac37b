import { describe, expect, it, vi } from "vitest";
import {
  accountSql,
  body,
  call,
  createWebsite,
  FIXTURE,
  inAccount,
  jsonInit,
  newAccount,
  type ShotView,
  settled,
} from "../../helpers";

describe("POST /v1/screenshots with Prefer: wait", () => {
  it("answers 200 with the finished screenshot and Preference-Applied; a replay answers the same", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const send = () =>
      call(
        "/v1/screenshots",
        jsonInit(
          "POST",
          { website_id: site.id },
          { ...acc.auth, Prefer: "respond-async, WAIT=30", "Idempotency-Key": "wait-1" },
        ),
      );
    const res = await send();
    expect(res.status).toBe(200);
    expect(res.headers.get("preference-applied")).toBe("wait=30");
    expect(res.headers.get("vary")).toMatch(/\bPrefer\b/);
    const shot = await body<ShotView>(res);
    expect(shot).toMatchObject({ status: "completed", width: 1280, height: 800, format: "png" });
    expect(shot.download_url).toBe(`/v1/screenshots/${shot.id}/download`);
    expect(res.headers.get("location")).toBe(`/v1/screenshots/${shot.id}`);
    // The same object GET shows.
    expect(await body(await call(`/v1/screenshots/${shot.id}`, { headers: acc.auth }))).toEqual(shot);

    // The Idempotency-Key replays the first answer — 200, finished, with its headers — and captures nothing new.
    const replay = await send();
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("preference-applied")).toBe("wait=30");
    expect(await body(replay)).toEqual(shot);
    const [n] = await accountSql<{ n: number }>(acc.id, "SELECT count(*) AS n FROM screenshots");
    expect(n?.n).toBe(1);
  });

  it("answers 200 for a capture that failed too: it has finished", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/status?code=500`);
    const res = await call(
      "/v1/screenshots",
      jsonInit("POST", { website_id: site.id }, { ...acc.auth, Prefer: "wait=30" }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("preference-applied")).toBe("wait=30");
    const shot = await body<ShotView>(res);
    expect(shot.status).toBe("failed");
    expect(shot.error).toMatch(/HTTP 500/);
  });

  it("answers the usual 202 when the capture outlasts the wait, ignores a wait out of range, and answers 202 when it cannot wait at all", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const slow = await call(
      "/v1/screenshots",
      jsonInit("POST", { website_id: site.id, capture: { delay_ms: 3000 } }, { ...acc.auth, Prefer: "wait=1" }),
    );
    expect(slow.status).toBe(202);
    expect(slow.headers.get("preference-applied")).toBeNull();
    expect(slow.headers.get("vary")).toMatch(/\bPrefer\b/);
    const queued = await body<ShotView>(slow);
    expect(["queued", "processing"]).toContain(queued.status);

    // wait=0 is no valid preference: answered at once, as without one.
    const ignored = await call(
      "/v1/screenshots",
      jsonInit("POST", { website_id: site.id }, { ...acc.auth, Prefer: "wait=0" }),
    );
    expect(ignored.status).toBe(202);
    expect(ignored.headers.get("preference-applied")).toBeNull();
    const plain = await body<ShotView>(ignored);
    expect(plain.status).toBe("queued");

    // Waiting fails (in the account's object, where requests wait for their jobs): the job is
    // queued all the same, so 202, not an error.
    const failing = await inAccount(acc.id, (_db, object) =>
      vi.spyOn(object.scope().completions, "wait").mockRejectedValueOnce(new Error("waiting unavailable")),
    );
    const unwaited = await call(
      "/v1/screenshots",
      jsonInit("POST", { website_id: site.id }, { ...acc.auth, Prefer: "wait=5" }),
    );
    expect(failing).toHaveBeenCalledTimes(1);
    failing.mockRestore();
    expect(unwaited.status).toBe(202);
    expect(unwaited.headers.get("preference-applied")).toBeNull();
    const third = await body<ShotView>(unwaited);

    expect((await settled(acc, queued.id)).status).toBe("completed");
    expect((await settled(acc, plain.id)).status).toBe("completed");
    expect((await settled(acc, third.id)).status).toBe("completed");
  });
});
