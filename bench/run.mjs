// `npm run bench [api|capture|latency]`: benchmarks against the local server. Prints figures;
// it asserts nothing (tests never time things).
import { benchApi } from "./api.mjs";

const which = process.argv[2] ?? "all";
if (which === "all" || which === "api") await benchApi();
if (which === "all" || which === "latency") {
  const { benchLatency } = await import("./latency.mjs");
  await benchLatency();
}
if (which === "all" || which === "capture") {
  const { benchCapture } = await import("./capture.mjs");
  await benchCapture();
}
process.exit(0);
