import { EXTENSIONS } from "./image";

/**
 * R2 layout: everything of an account under one prefix, everything of a website under
 * the next, scenario runs under the scenario. Deleting an account, website or scenario
 * is one prefix purge.
 */
export const accountPrefix = (accountId: string) => `acc/${accountId}/`;
export const websitePrefix = (accountId: string, websiteId: string) => `${accountPrefix(accountId)}web/${websiteId}/`;
export const scenarioPrefix = (accountId: string, websiteId: string, scenarioId: string) =>
  `${websitePrefix(accountId, websiteId)}scn/${scenarioId}/`;

export function screenshotKey(shot: {
  id: string;
  accountId: string;
  websiteId: string;
  scenarioId?: string | null;
  format: keyof typeof EXTENSIONS;
}): string {
  const base = shot.scenarioId
    ? scenarioPrefix(shot.accountId, shot.websiteId, shot.scenarioId)
    : `${websitePrefix(shot.accountId, shot.websiteId)}shot/`;
  return `${base}${shot.id}.${EXTENSIONS[shot.format]}`;
}

/** A screenshot's gallery thumbnail: next to its image (same prefix, so purges take both). */
export const thumbnailKey = (imageKey: string) => `${imageKey}.thumb.jpg`;

/**
 * A JPEG or WebP capture's lossless PNG copy, made once for change detection (see
 * src/capture/transcode.ts): next to its image, so purges take it too. PNG captures have none.
 */
export const transcodedKey = (imageKey: string) => (/\.png$/.test(imageKey) ? null : `${imageKey}.cmp.png`);

export const TEXT_TYPE = "text/plain; charset=utf-8";

/** The page's visible text (`GET /v1/screenshots/{id}/text`), next to its image. */
export const textKey = (imageKey: string) => `${imageKey}.txt`;

/** A changed capture's small diff picture for alert emails (≤ 100 KB), next to its image. */
export const alertImageKey = (imageKey: string) => `${imageKey}.alert.png`;

/**
 * Every R2 object a screenshot row owns: its image, thumbnail, diff, transcoded PNG, text and
 * alert picture (the last three derive from the image's key; deleting one never made is a no-op).
 */
export function screenshotObjects(row: {
  r2Key: string | null;
  thumbKey: string | null;
  diffKey: string | null;
}): string[] {
  const image = row.r2Key;
  const keys = [
    image,
    row.thumbKey,
    row.diffKey,
    image ? transcodedKey(image) : null,
    image ? textKey(image) : null,
    image ? alertImageKey(image) : null,
  ];
  return keys.filter((k): k is string => k !== null);
}
