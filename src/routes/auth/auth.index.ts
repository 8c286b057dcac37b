import { createRouter } from "../router";
import * as handlers from "./auth.handlers";
import * as routes from "./auth.routes";

export const authRouter = createRouter()
  .openapi(routes.signupRoute, handlers.signupRoute)
  .openapi(routes.loginRoute, handlers.loginRoute)
  .openapi(routes.logoutRoute, handlers.logoutRoute);
