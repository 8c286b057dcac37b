import { routerOf } from "../router";
import * as handlers from "./alert-channels.handlers";
import * as routes from "./alert-channels.routes";

export const alertChannelsRouter = routerOf(routes, handlers);
