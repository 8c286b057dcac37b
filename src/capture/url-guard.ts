/**
 * SSRF guard: what a capture may reach. Applied when a URL is stored, before a capture
 * navigates, and to every request the page makes (redirects and sub-resources included).
 *
 * Refused: schemes other than http/https, credentials in URLs, IP literals in loopback,
 * private, link-local (cloud metadata), CGNAT, multicast, reserved or documentation
 * ranges (IPv4, IPv6, and IPv4 embedded in IPv6: mapped, NAT64, 6to4), local-only names
 * (localhost, *.local, *.internal, single labels), and hostnames whose DNS answers fall in
 * those ranges. An allowlist (local dev and tests only) lets named host:port pairs through.
 */

export type GuardVerdict = { ok: true; url: URL } | { ok: false; reason: string };

export interface Resolver {
  /** IPv4 and IPv6 addresses a hostname resolves to; [] if none. */
  resolve(hostname: string): Promise<string[]>;
}

export interface GuardPolicy {
  /** `host:port` or `host:*` entries that may be private (from ALLOW_PRIVATE_TARGETS). */
  allow: string[];
  resolver?: Resolver;
}

const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet", ".corp"];

function ipv4ToInt(ip: string): number | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const v = Number(part);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

const V4_BLOCKS: [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

export function isPrivateIPv4(ip: string): boolean {
  const n = ipv4ToInt(ip);
  if (n === null) return true; // not a clean dotted quad: refuse
  return V4_BLOCKS.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return (n & mask) >>> 0 === ((ipv4ToInt(base) as number) & mask) >>> 0;
  });
}

/** Expands an IPv6 literal to 8 16-bit groups (handles `::` and a trailing dotted quad). */
function ipv6Groups(ip: string): number[] | null {
  let text = ip.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes(".")) {
    const n = ipv4ToInt(maybeV4);
    if (n === null) return null;
    tail = [n >>> 16, n & 0xffff];
    text = `${text.slice(0, lastColon + 1)}`;
    if (text.endsWith(":") && !text.endsWith("::")) text = text.slice(0, -1);
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  if (text.split("::").length > 2) return null;
  const parse = (s: string) =>
    s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? Number.parseInt(g, 16) : Number.NaN));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = 8 - tail.length - left.length - right.length;
  if (rest === undefined && fill !== 0) return null;
  if (fill < 0) return null;
  const groups = [...left, ...new Array(rest === undefined ? 0 : fill).fill(0), ...right, ...tail];
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return null;
  return groups;
}

const v4FromGroups = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

export function isPrivateIPv6(ip: string): boolean {
  const g = ipv6Groups(ip);
  if (!g) return true;
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g6 = 0, h = 0] = g;
  const allZero = (xs: number[]) => xs.every((x) => x === 0);
  if (allZero([a, b, c, d, e, f, g6]) && (h === 0 || h === 1)) return true; // :: and ::1
  if (allZero([a, b, c, d, e]) && f === 0xffff) return isPrivateIPv4(v4FromGroups(g6, h)); // ::ffff:a.b.c.d
  if (allZero([a, b, c, d, e, f])) return true; // deprecated IPv4-compatible ::a.b.c.d
  if (a === 0x64 && b === 0xff9b) return isPrivateIPv4(v4FromGroups(g6, h)); // NAT64 64:ff9b::/96
  if (a === 0x2002) return isPrivateIPv4(v4FromGroups(b, c)); // 6to4
  if ((a & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local (fd00:ec2::254 metadata)
  if ((a & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((a & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((a & 0xff00) === 0xff00) return true; // multicast
  if (a === 0x2001 && b === 0x0db8) return true; // documentation
  if (a === 0x0100 && allZero([b, c, d])) return true; // discard-only 100::/64
  if (a === 0x2001 && b === 0) return true; // Teredo (embeds arbitrary IPv4)
  return false;
}

export const isIpLiteral = (host: string) => ipv4ToInt(host) !== null || host.startsWith("[");

export function isPrivateAddress(address: string): boolean {
  const bare = address.startsWith("[") ? address.slice(1, -1) : address;
  return bare.includes(":") ? isPrivateIPv6(bare) : isPrivateIPv4(bare);
}

function allowed(url: URL, policy: GuardPolicy): boolean {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return policy.allow.some((entry) => entry === `${url.hostname}:${port}` || entry === `${url.hostname}:*`);
}

/** Whether the URL's `host:port` is on the local allowlist (ALLOW_PRIVATE_TARGETS). */
export const isAllowlisted = (url: URL, policy: GuardPolicy) => allowed(url, policy);

/**
 * Whether a connected address (as the browser reports it) is one the allowlist names,
 * directly or as `localhost` (loopback).
 */
export function isAllowedAddress(ip: string, port: number | undefined, policy: GuardPolicy): boolean {
  const host = ip.includes(":") ? `[${ip}]` : ip;
  const names = ip === "127.0.0.1" || ip === "::1" ? [host, "localhost"] : [host];
  return policy.allow.some((entry) =>
    names.some((name) => entry === `${name}:*` || (port !== undefined && entry === `${name}:${port}`)),
  );
}

/** Checks that need no network: scheme, credentials, literals, local names. */
export function checkUrlSyntax(raw: string, policy: GuardPolicy): GuardVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "Must be an absolute http or https URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { ok: false, reason: "Must be an http or https URL" };
  if (url.username || url.password) return { ok: false, reason: "Must not contain credentials" };
  if (allowed(url, policy)) return { ok: true, url };
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) {
    if (isPrivateIPv6(host.slice(1, -1)))
      return { ok: false, reason: "Must not point to a private or reserved address" };
    return { ok: true, url };
  }
  if (ipv4ToInt(host) !== null) {
    if (isPrivateIPv4(host)) return { ok: false, reason: "Must not point to a private or reserved address" };
    return { ok: true, url };
  }
  if (host === "localhost" || LOCAL_SUFFIXES.some((s) => host.endsWith(s)) || !host.includes(".")) {
    return { ok: false, reason: "Must be a public host name" };
  }
  return { ok: true, url };
}

/**
 * Syntax checks, then DNS: every address the name resolves to must be public. When the
 * resolver itself fails, `storing` lets the URL through (the capture-time check, which
 * fails closed, will look again); captures refuse.
 */
export async function checkUrl(raw: string, policy: GuardPolicy, mode: "storing" | "capturing"): Promise<GuardVerdict> {
  const verdict = checkUrlSyntax(raw, policy);
  if (!verdict.ok || !policy.resolver || allowed(verdict.url, policy)) return verdict;
  const host = verdict.url.hostname;
  if (host.startsWith("[") || ipv4ToInt(host) !== null) return verdict;
  let addresses: string[];
  try {
    addresses = await policy.resolver.resolve(host);
  } catch {
    return mode === "storing" ? verdict : { ok: false, reason: "Host name could not be resolved" };
  }
  if (addresses.length === 0) return { ok: false, reason: "Host name does not resolve" };
  if (addresses.some(isPrivateAddress)) return { ok: false, reason: "Host resolves to a private or reserved address" };
  return verdict;
}

/** DNS over HTTPS (Cloudflare's resolver), used by deployed Workers. */
export const dohResolver: Resolver = {
  async resolve(hostname) {
    const ask = async (type: "A" | "AAAA") => {
      const res = await fetch(
        `https://cloudflare-dns.com/dns-query?name=${encodeURIComponent(hostname)}&type=${type}`,
        {
          headers: { accept: "application/dns-json" },
        },
      );
      if (!res.ok) throw new Error(`DoH ${res.status}`);
      const body = (await res.json()) as { Answer?: { type: number; data: string }[] };
      return (body.Answer ?? []).filter((a) => a.type === (type === "A" ? 1 : 28)).map((a) => a.data);
    };
    const [a, aaaa] = await Promise.all([ask("A"), ask("AAAA")]);
    return [...a, ...aaaa];
  },
};

/** Caches answers for the life of one capture batch. */
export function cachingResolver(inner: Resolver): Resolver {
  const cache = new Map<string, Promise<string[]>>();
  return {
    resolve(hostname) {
      let hit = cache.get(hostname);
      if (!hit) {
        hit = inner.resolve(hostname);
        cache.set(hostname, hit);
      }
      return hit;
    },
  };
}

/** A fixed table (local config and tests only); a name not in it is a resolver failure. */
export function staticResolver(table: Record<string, string[]>): Resolver {
  return {
    resolve: async (hostname) => {
      const answer = table[hostname.toLowerCase()];
      if (!answer) throw new Error(`${hostname} is not in STATIC_DNS`);
      return answer;
    },
  };
}
