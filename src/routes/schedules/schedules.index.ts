import { createRouter } from "../router";
import * as handlers from "./schedules.handlers";
import * as routes from "./schedules.routes";

export const schedulesRouter = createRouter()
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.get, handlers.get)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.remove, handlers.remove);
