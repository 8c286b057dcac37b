import { routerOf } from "../router";
import * as handlers from "./auth.handlers";
import * as routes from "./auth.routes";

export const authRouter = routerOf(routes, handlers);
