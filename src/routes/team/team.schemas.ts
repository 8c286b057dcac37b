import { z } from "@hono/zod-openapi";
import { USER_ROLES } from "../../lib/values";
import { Signup } from "../auth/auth.schemas";

export const RoleSchema = z
  .enum(USER_ROLES)
  .openapi({ description: "Owners also manage the plan, the API token and members.", example: "member" });

export const MemberSchema = z
  .object({
    id: z.string().openapi({ example: "usr_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    email: z.string(),
    name: z.string(),
    role: RoleSchema,
    created_at: z.string(),
  })
  .openapi("Member");

export const InvitationSchema = z
  .object({
    id: z.string().openapi({ example: "inv_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    email: z.string(),
    role: RoleSchema,
    created_at: z.string(),
    expires_at: z.string().openapi({ description: "Seven days after it was sent; the link works once." }),
  })
  .openapi("Invitation");

export const TeamSchema = z
  .object({
    members: z.array(MemberSchema),
    invitations: z.array(InvitationSchema).openapi({ description: "Pending invitations, newest first." }),
    seats_used: z.number().int(),
    seats_limit: z.number().int(),
  })
  .openapi("Team");

export const NewInvitationSchema = InvitationSchema.extend({
  link: z.string().openapi({
    description: "The single-use link, mailed to the invitee. Shown this once (never logged).",
    example: "https://snaptrack.example/invite/…",
  }),
  mailed: z.boolean().openapi({ description: "Whether the mail with the link was sent." }),
}).openapi("NewInvitation");

export const InviteBody = z
  .object({
    email: Signup.shape.email,
    role: RoleSchema.default("member"),
  })
  .openapi("InvitationRequest");

export const AcceptBody = z
  .object({
    token: z.string().min(1, "Is required").max(200),
    name: Signup.shape.name,
    password: Signup.shape.password,
  })
  .openapi("AcceptInvitation");
