/**
 * The stylesheet and script parts of the compare page and the webhook settings, appended
 * to the dashboard's one stylesheet and one script (`assets.ts`).
 */
export const CHANGES_CSS = `
.status.changed { background: #fde2e0; color: var(--danger); }
.status.delivered { background: #dff3e6; color: var(--ok); }
.tile a.cmp { display: flex; align-items: center; gap: .4rem; padding: 0 .75rem .5rem; font-size: .875rem; }
.tile a.cmp { text-decoration: none; }
.tile a.cmp .u { text-decoration: underline; }
.table-wrap { position: relative; }
.side { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); align-items: start; }
figure { margin: 0; min-width: 0; }
figcaption { font-size: .9rem; color: var(--muted); margin-bottom: .35rem; }
.compare-slider .stack { display: grid; border: 1px solid var(--line); border-radius: var(--radius); overflow: hidden;
  background: #fff; }
.compare-slider .stack img { grid-area: 1 / 1; width: 100%; height: auto; border: 0; border-radius: 0; }
.compare-slider input[type=range] { width: 100%; min-height: 2.5rem; }
.compare-slider label { margin-top: .5rem; font-weight: 400; color: var(--muted); font-size: .9rem; }
.diff-wrap { position: relative; display: inline-block; max-width: 100%; }
.diff-wrap img { display: block; }
.diff-wrap svg.regions { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
ul.changes { padding-left: 1.1rem; }
ul.changes li { margin: .25rem 0; }
.events { display: grid; gap: .25rem 1rem; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); margin-bottom: 1rem; }
.events > * { min-width: 0; }
.events .check { font-weight: 400; min-width: 0; overflow-wrap: anywhere; }
fieldset.invalid { border-color: var(--danger); border-width: 2px; }
fieldset .error { color: var(--danger); font-weight: 600; }
button.small { min-height: 2rem; padding: .25rem .6rem; font-size: .875rem; }
h1.wrap { overflow-wrap: anywhere; }
iframe.mail { display: block; width: 100%; min-height: 32rem; border: 1px solid var(--line); border-radius: var(--radius);
  background: #fff; }
pre.mail-text { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: .75rem; }
.pixels-text { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); align-items: start; }
.pixels-text > * { min-width: 0; }
ol.lines { list-style: none; margin: 0 0 1rem; padding: 0; border: 1px solid var(--line); border-radius: var(--radius);
  overflow: hidden; font: .85rem/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
ol.lines li { padding: .1rem .5rem; white-space: pre-wrap; overflow-wrap: anywhere; }
ol.lines.added li { background: #e9f7ee; color: #0a5c24; }
ol.lines.removed li { background: #fdecec; color: #8a1c1c; }
ol.lines.added li::before { content: "+ "; }
ol.lines.removed li::before { content: "− "; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;

export const CHANGES_JS = `
(function () {
  // Compare slider: this capture over its baseline, cut where the range input says.
  // Without the script the section stays hidden; side by side and the diff are there anyway.
  var section = document.getElementById("slider");
  var range = document.getElementById("slider-range");
  var after = document.getElementById("slider-after");
  if (!section || !range || !after) return;
  function cut() { after.style.clipPath = "inset(0 0 0 " + range.value + "%)"; }
  range.addEventListener("input", cut);
  cut();
  section.hidden = false;
})();
`;
