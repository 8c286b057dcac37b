import { routerOf } from "../router";
import * as handlers from "./schedules.handlers";
import * as routes from "./schedules.routes";

export const schedulesRouter = routerOf(routes, handlers);
