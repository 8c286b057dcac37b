import { createRouter } from "../router";
import * as handlers from "./account.handlers";
import * as routes from "./account.routes";

export const accountRouter = createRouter()
  .openapi(routes.getAccount, handlers.getAccount)
  .openapi(routes.putPlan, handlers.putPlan)
  .openapi(routes.postRenew, handlers.postRenew)
  .openapi(routes.getApiToken, handlers.getApiToken)
  .openapi(routes.postApiToken, handlers.postApiToken)
  .openapi(routes.deleteApiToken, handlers.deleteApiToken);

export const v1AccountRouter = createRouter().openapi(routes.v1Account, handlers.v1Account);
