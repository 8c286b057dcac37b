import { usageOf } from "../../middleware/auth";
import { setSessionCookie } from "../../middleware/session-cookie";
import { disableChannelsCreatedBy, REMOVED_CREATOR_REASON } from "../../services/alert-channels";
import * as team from "../../services/team";
import type { AppRouteHandler } from "../types";
import type * as routes from "./team.routes";

export const getTeam: AppRouteHandler<typeof routes.getTeam> = async (c) =>
  c.json(await team.teamView(c.get("directory"), c.get("account"), c.get("now")), 200);

export const createInvitation: AppRouteHandler<typeof routes.createInvitation> = async (c) => {
  const { invitation, path } = await team.invite(
    c.get("directory"),
    c.get("account"),
    c.get("user").id,
    c.req.valid("json"),
    c.get("now"),
  );
  c.header("Cache-Control", "no-store");
  return c.json({ ...invitation, link: new URL(path, c.req.url).href }, 201);
};

export const deleteInvitation: AppRouteHandler<typeof routes.deleteInvitation> = async (c) => {
  await team.revokeInvitation(c.get("directory"), c.get("account").id, c.req.valid("param").id);
  return c.body(null, 204);
};

export const deleteMember: AppRouteHandler<typeof routes.deleteMember> = async (c) => {
  const memberId = c.req.valid("param").id;
  await team.removeMember(c.get("directory"), c.get("account").id, c.get("user").id, memberId);
  // What they added keeps acting for the account: their alert channels stop (an owner may enable them again).
  await disableChannelsCreatedBy(c.get("db"), memberId, REMOVED_CREATOR_REASON, c.get("now"));
  return c.body(null, 204);
};

export const acceptInvitation: AppRouteHandler<typeof routes.acceptInvitation> = async (c) => {
  const { sessionId, view } = await team.acceptInvitationWithView(
    c.get("directory"),
    usageOf(c),
    c.req.valid("json"),
    c.get("now"),
  );
  setSessionCookie(c, sessionId);
  return c.json(view, 201);
};
