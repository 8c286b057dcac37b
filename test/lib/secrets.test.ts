import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { redact } from "../../src/jobs/run";
import { decryptSecret, encryptSecret } from "../../src/lib/secrets";

describe("secret step text at rest", () => {
  it("round-trips with the key and the scenario it belongs to", async () => {
    const sealed = await encryptSecret(env.SECRETS_KEY, "p@ss word", "scn_a");
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain("p@ss");
    expect(await decryptSecret(env.SECRETS_KEY, sealed, "scn_a")).toBe("p@ss word");
  });

  it("will not open in another scenario, with another key, or without a key", async () => {
    const sealed = await encryptSecret(env.SECRETS_KEY, "p@ss word", "scn_a");
    await expect(decryptSecret(env.SECRETS_KEY, sealed, "scn_b")).rejects.toThrow();
    await expect(decryptSecret(btoa("x".repeat(32)), sealed, "scn_a")).rejects.toThrow();
    await expect(encryptSecret(undefined, "x", "scn_a")).rejects.toThrow(/SECRETS_KEY/);
  });

  it("is redacted from run messages, also URL-encoded", () => {
    const message = "Expected the URL to contain /done; it is http://x/login?pw=p%40ss+word and p@ss word";
    expect(redact(message, ["p@ss word"])).toBe(
      "Expected the URL to contain /done; it is http://x/login?pw=[secret] and [secret]",
    );
  });
});
