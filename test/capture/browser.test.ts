import { describe, expect, it } from "vitest";
import { BROWSER_PAGES, browserKeepAlive, browserPages, KEEP_ALIVE_MS } from "../../src/capture/browser";

const withVar = (value?: string) => ({ BROWSER_KEEP_ALIVE_MS: value }) as unknown as Env;
const withPages = (value?: string) => ({ BROWSER_PAGES: value }) as unknown as Env;

describe("BROWSER_KEEP_ALIVE_MS", () => {
  it("defaults to Browser Rendering's longest keep-alive (deployed: idle browsers are reused)", () => {
    expect(browserKeepAlive(withVar())).toBe(KEEP_ALIVE_MS);
    expect(browserKeepAlive(withVar(""))).toBe(KEEP_ALIVE_MS);
  });

  it("takes 0 (npm start: closed when idle) and other whole milliseconds up to the maximum", () => {
    expect(browserKeepAlive(withVar("0"))).toBe(0);
    expect(browserKeepAlive(withVar("60000"))).toBe(60_000);
  });

  it("refuses anything else, naming the variable", () => {
    for (const bad of ["-1", "1.5", "ten", "600001"]) {
      expect(() => browserKeepAlive(withVar(bad))).toThrow(/BROWSER_KEEP_ALIVE_MS/);
    }
  });
});

describe("BROWSER_PAGES", () => {
  it("defaults to BROWSER_PAGES pages at once and takes 1 to 10", () => {
    expect(browserPages(withPages())).toBe(BROWSER_PAGES);
    expect(browserPages(withPages("1"))).toBe(1);
    expect(browserPages(withPages("10"))).toBe(10);
  });

  it("refuses anything else, naming the variable", () => {
    for (const bad of ["0", "11", "2.5", "many"]) expect(() => browserPages(withPages(bad))).toThrow(/BROWSER_PAGES/);
  });
});
