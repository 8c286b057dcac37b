import { describe, expect, it } from "vitest";
import { preferredWait } from "../../src/lib/prefer";

describe("Prefer: wait (RFC 7240)", () => {
  it("reads wait=1–60 among other preferences, in any case and spacing, quoted or not", () => {
    expect(preferredWait("wait=10")).toBe(10);
    expect(preferredWait("respond-async, wait=30")).toBe(30);
    expect(preferredWait("  WAIT = 5 ")).toBe(5);
    expect(preferredWait('return=minimal; foo="a,b", wait="60"')).toBe(60);
    expect(preferredWait("wait=1;x=y")).toBe(1);
    // Repeated headers arrive joined by commas; the first wait counts.
    expect(preferredWait("handling=lenient, wait=7, wait=9")).toBe(7);
  });

  it("ignores anything else: a preference is not a requirement", () => {
    for (const header of [undefined, null, "", "respond-async", "wait", "wait=", "wait=0", "wait=61", "wait=-1"]) {
      expect(preferredWait(header), String(header)).toBeUndefined();
    }
    for (const header of ["wait=1.5", "wait=abc", "wait=10s", "wait=99999", 'x="wait=5"', "waiting=5"]) {
      expect(preferredWait(header), header).toBeUndefined();
    }
    // The first wait is invalid, so the preference is ignored, not replaced by a later one.
    expect(preferredWait("wait=0, wait=5")).toBeUndefined();
  });
});
