// `npm run bench [api|tenants|capture|compare|latency]`: benchmarks against the local server. Prints figures;
// it asserts nothing (tests never time things).
const which = process.argv[2] ?? "all";
if (which === "all" || which === "api") {
  const { benchApi } = await import("./api.mjs");
  await benchApi();
}
if (which === "all" || which === "tenants") {
  const { benchTenants } = await import("./tenants.mjs");
  await benchTenants();
}
if (which === "all" || which === "latency") {
  const { benchLatency } = await import("./latency.mjs");
  await benchLatency();
}
if (which === "all" || which === "capture") {
  const { benchCapture } = await import("./capture.mjs");
  await benchCapture();
}
if (which === "all" || which === "compare") {
  const { benchCompare } = await import("./compare.mjs");
  await benchCompare();
}
process.exit(0);
