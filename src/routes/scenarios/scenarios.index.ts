import { routerOf } from "../router";
import * as handlers from "./scenarios.handlers";
import * as routes from "./scenarios.routes";

export const scenariosRouter = routerOf(routes, handlers);
