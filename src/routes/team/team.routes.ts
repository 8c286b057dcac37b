import { createRoute, z } from "@hono/zod-openapi";
import { accountSessionErrorResponses, errorContent, json, jsonBody, sessionErrorResponses } from "../../lib/openapi";
import { AccountSchema, sessionSecurity, sessionTags } from "../account/account.schemas";
import { AcceptBody, InviteBody, NewInvitationSchema, TeamSchema } from "./team.schemas";

const ownersOnly = errorContent(
  "A cross-site write, or a member asking for what only owners manage (`forbidden`); or the plan's seats are all taken (`plan_limit_reached`).",
);

const pathId = (name: string, example: string) =>
  z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, description: `${name} id`, example }) });

export const getTeam = createRoute({
  method: "get",
  path: "/account/team",
  operationId: "getTeam",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Members, pending invitations and seats",
  responses: { 200: json(TeamSchema, "The team."), ...accountSessionErrorResponses },
});

export const createInvitation = createRoute({
  method: "post",
  path: "/account/invitations",
  operationId: "createInvitation",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Invite someone by email (owners)",
  description:
    "Creates a single-use link valid for 7 days. Seats (owner + members + pending invitations) are limited by the plan. " +
    "Inviting an email again replaces its earlier link. An email that already has a SnapTrack login cannot be invited (409). " +
    "The link is mailed to the invitee (`mailed` says whether the mail went) and is in this answer once.",
  request: { body: jsonBody(InviteBody) },
  responses: {
    201: json(NewInvitationSchema, "The invitation and its link (shown once)."),
    ...accountSessionErrorResponses,
    403: ownersOnly,
    409: errorContent("The email already has a SnapTrack login (`conflict`)."),
  },
});

export const deleteInvitation = createRoute({
  method: "delete",
  path: "/account/invitations/{id}",
  operationId: "revokeInvitation",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Revoke a pending invitation (owners)",
  request: { params: pathId("Invitation", "inv_01jf8z3k6m9q2w4e6r8t0y2u4i") },
  responses: {
    204: { description: "Revoked; its link no longer works." },
    ...accountSessionErrorResponses,
    403: ownersOnly,
    404: errorContent("No such pending invitation in this account."),
  },
});

export const deleteMember = createRoute({
  method: "delete",
  path: "/account/members/{id}",
  operationId: "removeMember",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Remove a member (owners); their sessions end at once",
  description:
    "What the member added that acts for the account (webhook endpoints they created in the dashboard) is disabled, " +
    "with a reason naming them, unless `keep` lists its id.",
  request: {
    params: pathId("User", "usr_01jf8z3k6m9q2w4e6r8t0y2u4i"),
    query: z.object({
      keep: z.string().max(4000).optional().openapi({
        description: "Comma-separated ids of the member's endpoints to keep enabled.",
        example: "whk_01jf8z3k6m9q2w4e6r8t0y2u4i",
      }),
    }),
  },
  responses: {
    204: { description: "Removed and logged out everywhere." },
    ...accountSessionErrorResponses,
    403: ownersOnly,
    404: errorContent("No such member in this account."),
    409: errorContent("You cannot remove yourself (`conflict`)."),
  },
});

export const acceptInvitation = createRoute({
  method: "post",
  path: "/auth/accept-invitation",
  operationId: "acceptInvitation",
  tags: ["Auth"],
  security: [],
  summary: "Join an account through an invitation link and start a session",
  description: "`token` is the last part of the invitation link. The link works once and for 7 days.",
  request: { body: jsonBody(AcceptBody) },
  responses: {
    201: json(AccountSchema, "The account joined, as `GET /account` shows it; the session cookie is set."),
    ...sessionErrorResponses,
    404: errorContent("The link was used, revoked or has expired (`not_found`)."),
    409: errorContent("The invited email already has a SnapTrack login (`conflict`)."),
  },
});
