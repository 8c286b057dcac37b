import { createRouter } from "../router";
import * as handlers from "./screenshots.handlers";
import * as routes from "./screenshots.routes";

export const screenshotsRouter = createRouter()
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.get, handlers.get)
  .openapi(routes.download, handlers.download)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.bulk, handlers.bulk);
