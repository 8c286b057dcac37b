/**
 * `block_ads`: requests to well-known ad and tracker hosts, and URLs shaped like ad
 * resources (a small subset of EasyList's generic rules), are aborted.
 */
const AD_HOSTS = [
  "doubleclick.net",
  "googlesyndication.com",
  "googleadservices.com",
  "googletagservices.com",
  "adservice.google.com",
  "google-analytics.com",
  "googletagmanager.com",
  "amazon-adsystem.com",
  "adnxs.com",
  "adsrvr.org",
  "criteo.com",
  "criteo.net",
  "taboola.com",
  "outbrain.com",
  "scorecardresearch.com",
  "quantserve.com",
  "moatads.com",
  "rubiconproject.com",
  "pubmatic.com",
  "openx.net",
  "casalemedia.com",
  "adform.net",
  "smartadserver.com",
  "yieldmo.com",
  "media.net",
  "hotjar.com",
  "connect.facebook.net",
];

const AD_PATHS = [
  /\/ads?\//i,
  /\/adserver/i,
  /\/ads?[._-]?(banner|script|loader)?\.js\b/i,
  /[?&]ad_?(unit|slot|type)=/i,
  /\/adsbygoogle/i,
  /\/pagead\//i,
];

export function isAdRequest(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  if (AD_HOSTS.some((h) => host === h || host.endsWith(`.${h}`))) return true;
  const pathAndQuery = `${url.pathname}${url.search}`;
  return AD_PATHS.some((re) => re.test(pathAndQuery));
}
