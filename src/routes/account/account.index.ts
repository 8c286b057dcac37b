import { routerOf } from "../router";
import * as handlers from "./account.handlers";
import * as routes from "./account.routes";

/** `/account` (cookie session) and `GET /v1/account` (bearer token) are gated differently. */
const { v1Account, ...sessionRoutes } = routes;
export const accountRouter = routerOf(sessionRoutes, handlers);
export const v1AccountRouter = routerOf({ v1Account }, handlers);
