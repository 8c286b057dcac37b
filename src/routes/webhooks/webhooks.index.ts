import { routerOf } from "../router";
import * as handlers from "./webhooks.handlers";
import * as routes from "./webhooks.routes";

export const webhooksRouter = routerOf(routes, handlers);
