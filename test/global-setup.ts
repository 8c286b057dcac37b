import type { TestProject } from "vitest/node";
import { startCanary } from "./fixtures/canary.mjs";
import { startFixtureServer } from "./fixtures/server.mjs";

declare module "vitest" {
  interface ProvidedContext {
    fixtureOrigin: string;
    fixtureInternalOrigin: string;
    canaryPort: number;
  }
}

/** Pages the browser captures, served on 127.0.0.1: nothing leaves the machine. */
export default async function setup(project: TestProject) {
  const server = await startFixtureServer();
  const canary = await startCanary();
  project.provide("fixtureOrigin", server.origin);
  project.provide("fixtureInternalOrigin", server.internalOrigin);
  project.provide("canaryPort", canary.port);
  return async () => {
    canary.close();
    await server.close();
  };
}
