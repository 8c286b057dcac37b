import { createRouter } from "../router";
import * as handlers from "./scenarios.handlers";
import * as routes from "./scenarios.routes";

export const scenariosRouter = createRouter()
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.get, handlers.get)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.run, handlers.run)
  .openapi(routes.runsOf, handlers.runsOf)
  .openapi(routes.getRunRoute, handlers.getRunRoute);
