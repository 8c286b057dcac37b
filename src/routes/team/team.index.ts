import { routerOf } from "../router";
import * as handlers from "./team.handlers";
import * as routes from "./team.routes";

/** `/account/team`, invitations and members (cookie session), and accepting an invitation. */
const { acceptInvitation, ...sessionRoutes } = routes;
export const teamRouter = routerOf(sessionRoutes, handlers);
export const invitationRouter = routerOf({ acceptInvitation }, handlers);
