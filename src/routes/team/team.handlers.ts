import { refreshAccount, usageOf } from "../../middleware/auth";
import { setSessionCookie } from "../../middleware/session-cookie";
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
  const link = new URL(path, c.req.url).href;
  const mail = await team.mailInvitation(c.env, c.get("db"), {
    to: invitation.email,
    link,
    accountName: c.get("account").name,
    inviterName: c.get("user").name,
    role: invitation.role,
    expiresAt: invitation.expires_at,
  });
  c.header("Cache-Control", "no-store");
  return c.json({ ...invitation, link, mailed: mail.sent }, 201);
};

export const deleteInvitation: AppRouteHandler<typeof routes.deleteInvitation> = async (c) => {
  await team.revokeInvitation(c.get("directory"), c.get("account").id, c.req.valid("param").id);
  return c.body(null, 204);
};

export const deleteMember: AppRouteHandler<typeof routes.deleteMember> = async (c) => {
  const keep = new Set((c.req.valid("query").keep ?? "").split(",").map((id) => id.trim()));
  await team.removeMember(
    c.get("directory"),
    c.get("db"),
    c.get("account").id,
    c.get("user").id,
    c.req.valid("param").id,
    keep,
    c.get("now"),
  );
  return c.body(null, 204);
};

export const acceptInvitation: AppRouteHandler<typeof routes.acceptInvitation> = async (c) => {
  const { sessionId, view } = await team.acceptInvitationWithView(
    c.get("directory"),
    usageOf(c),
    c.req.valid("json"),
    c.get("now"),
  );
  await refreshAccount(c, view.id);
  setSessionCookie(c, sessionId);
  return c.json(view, 201);
};
