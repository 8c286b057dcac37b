import { routerOf } from "../router";
import * as handlers from "./websites.handlers";
import * as routes from "./websites.routes";

export const websitesRouter = routerOf(routes, handlers);
