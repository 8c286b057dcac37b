import { z } from "@hono/zod-openapi";
import { PLAN_IDS, USER_ROLES } from "../../lib/values";
import { Credentials, Signup } from "../auth/auth.schemas";

export const PlanIdSchema = z.enum(PLAN_IDS).openapi({ example: "pro" });

export const AccountSchema = z
  .object({
    id: z.string().openapi({ example: "acc_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    email: z.string(),
    name: z.string(),
    plan: PlanIdSchema,
    limits: z.object({
      api_access: z.boolean(),
      requests_per_minute: z.number().int(),
      websites: z.number().int(),
      history_days: z.number().int(),
      captures_per_day: z.number().int(),
      captures_per_month: z.number().int(),
      bulk_zip: z.boolean(),
      team_users: z.number().int(),
      fastest_schedule_minutes: z.number().int(),
      webhook_endpoints: z.number().int(),
      alert_channels: z.number().int(),
    }),
    usage: z.object({
      captures_today: z.number().int(),
      captures_this_month: z.number().int(),
      day_resets_at: z.string(),
      month_resets_at: z.string(),
    }),
    subscription: z.object({
      status: z.enum(["active", "expired"]),
      current_period_end: z.string(),
      pending_plan: PlanIdSchema.nullable(),
      pending_plan_at: z.string().nullable(),
    }),
    team: z
      .object({
        seats_used: z.number().int().openapi({ description: "Owner, members and pending invitations." }),
        seats_limit: z.number().int().openapi({ description: "The plan's team seats." }),
      })
      .openapi({ description: "Team seats: the plan's limit and how many are taken." }),
    created_at: z.string(),
    user: z
      .object({
        id: z.string().openapi({ example: "usr_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
        email: z.string(),
        name: z.string(),
        role: z.enum(USER_ROLES),
      })
      .optional()
      .openapi({ description: "Session answers (`/auth`, `/account`): the logged-in user. Not in `GET /v1/account`." }),
  })
  .openapi("Account");

export const RenameBody = z
  .object({ name: Signup.shape.name.openapi({ description: "Your name; an owner's names the account too." }) })
  .openapi("AccountRename");

export const PasswordChangeBody = z
  .object({
    current_password: z.string().min(1, "Is required").max(256),
    new_password: Credentials.shape.password,
  })
  .openapi("PasswordChange");

export const DeleteAccountBody = z
  .object({ password: z.string().min(1, "Is required").max(256) })
  .openapi("AccountDeletion");

export const ApiTokenSchema = z
  .object({
    prefix: z.string().openapi({ example: "snpt_Ab3d" }),
    created_at: z.string(),
    last_used_at: z.string().nullable().openapi({ description: "Updated at most once a minute." }),
  })
  .openapi("ApiToken");

export const NewApiTokenSchema = ApiTokenSchema.extend({
  token: z.string().openapi({ description: "The token. Shown this once; store it now.", example: "snpt_…" }),
}).openapi("NewApiToken");

export const sessionTags = ["Account (session)"];
/** Session routes: the `snaptrack_session` cookie from signup or login. */
export const sessionSecurity = [{ sessionCookie: [] }];
