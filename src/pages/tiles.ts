import { html } from "hono/html";
import type { Screenshot } from "../db/schema";
import { attrs, statusBadge, when } from "./components";

const TERMINAL = new Set(["completed", "failed"]);

/**
 * One screenshot in a gallery: its thumbnail (never the full image) or a placeholder, its
 * status and time; a capture whose comparison found a change links to its compare page. A tile still queued or processing carries the status URL the script
 * polls; the status route answers the finished tile's markup from this same function.
 */
export function tile(shot: Screenshot) {
  const live = !TERMINAL.has(shot.status);
  const label = shot.name ?? when(shot.capturedAt ?? shot.createdAt);
  const picture =
    shot.status === "completed" && shot.thumbKey
      ? html`<img class="thumb" src="/app/screenshots/${shot.id}/thumb" alt="" loading="lazy" width="320" height="200">`
      : html`<span class="thumb ph" aria-hidden="true">${
          shot.status === "completed" ? "No preview" : shot.status === "failed" ? "Failed" : "Capturing…"
        }</span>`;
  return html`<li${attrs({
    class: "tile",
    id: `shot-${shot.id}`,
    "data-status": shot.status,
    "data-status-url": live ? `/app/screenshots/${shot.id}/status` : undefined,
  })}><a class="shot" href="/app/screenshots/${shot.id}">${picture}<span class="cap">${statusBadge(shot.status)} ${label}</span></a>${
    shot.changed
      ? html`<a class="cmp" href="/app/screenshots/${shot.id}/compare"><span class="status changed">changed</span> <span class="u">Compare</span></a>`
      : ""
  }</li>`;
}

export const gallery = (shots: Screenshot[], id?: string) =>
  html`<ul${attrs({ class: "gallery", id, hidden: shots.length === 0 })}>${shots.map(tile)}</ul>`;
