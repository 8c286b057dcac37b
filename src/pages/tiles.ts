import { html } from "hono/html";
import type { Screenshot } from "../db/schema";
import { attrs, statusBadge, when } from "./components";

const TERMINAL = new Set(["completed", "failed"]);

/** Still changing: the capture has not finished, or its comparison is running. */
export const settling = (shot: Screenshot) => !TERMINAL.has(shot.status) || shot.comparisonStatus === "pending";

export interface TileOptions {
  /** Galleries that mix websites (the overview) name each tile's website. */
  website?: string;
  /** A checkbox to pick it for a ZIP download (plans with bulk ZIP). */
  select?: boolean;
}

/**
 * One screenshot in a gallery: its thumbnail (never the full image) or a placeholder, its
 * status and time; a capture whose comparison found a change links to its compare page. A
 * tile still capturing or comparing carries the status URL the script polls; the status
 * route answers the settled tile's markup from this same function.
 */
export function tile(shot: Screenshot, o: TileOptions = {}) {
  const live = settling(shot);
  const time = when(shot.capturedAt ?? shot.createdAt);
  const picture =
    shot.status === "completed" && shot.thumbKey
      ? html`<img class="thumb" src="/app/screenshots/${shot.id}/thumb" alt="" loading="lazy" width="320" height="200">`
      : html`<span class="thumb ph" aria-hidden="true">${
          shot.status === "completed" ? "No preview" : shot.status === "failed" ? "Failed" : "Capturing…"
        }</span>`;
  const pick =
    o.select && shot.status === "completed"
      ? html`<label class="pick"><input${attrs({ type: "checkbox", name: "ids", value: shot.id, form: "zip-form" })}><span class="sr-only"> Select the capture of ${time}</span></label>`
      : "";
  return html`<li${attrs({
    class: "tile",
    id: `shot-${shot.id}`,
    "data-status": shot.status,
    "data-status-url": live ? `/app/screenshots/${shot.id}/status` : undefined,
  })}>${pick}<a class="shot" href="/app/screenshots/${shot.id}">${picture}<span class="cap">${
    o.website ? html`<strong class="site-name">${o.website}</strong>` : ""
  }${statusBadge(shot.status)} <span>${time}</span>${
    shot.comparisonStatus === "pending" ? html` <span class="muted">comparing…</span>` : ""
  }</span></a>${
    shot.changed
      ? html`<a class="cmp" href="/app/screenshots/${shot.id}/compare"><span class="status changed">changed</span> <span class="u">Compare</span></a>`
      : ""
  }</li>`;
}

export const gallery = (shots: Screenshot[], id?: string, o: TileOptions = {}) =>
  html`<ul${attrs({ class: "gallery", id, hidden: shots.length === 0 })}>${shots.map((s) => tile(s, o))}</ul>`;

/** The overview's gallery: the latest captures of every website, each tile naming its website. */
export const namedGallery = (rows: { shot: Screenshot; websiteName: string }[]) =>
  html`<ul class="gallery">${rows.map((r) => tile(r.shot, { website: r.websiteName }))}</ul>`;
