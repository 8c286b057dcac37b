import { createRouter } from "../router";
import * as handlers from "./websites.handlers";
import * as routes from "./websites.routes";

export const websitesRouter = createRouter()
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.get, handlers.get)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.remove, handlers.remove);
