import { routerOf } from "../router";
import * as handlers from "./screenshots.handlers";
import * as routes from "./screenshots.routes";

export const screenshotsRouter = routerOf(routes, handlers);
