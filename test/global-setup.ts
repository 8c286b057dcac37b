import type { TestProject } from "vitest/node";
import { startFixtureServer } from "./fixtures/server.mjs";

declare module "vitest" {
  interface ProvidedContext {
    fixtureOrigin: string;
    fixtureInternalOrigin: string;
  }
}

/** Pages the browser captures, served on 127.0.0.1: nothing leaves the machine. */
export default async function setup(project: TestProject) {
  const server = await startFixtureServer();
  project.provide("fixtureOrigin", server.origin);
  project.provide("fixtureInternalOrigin", server.internalOrigin);
  return () => server.close();
}
