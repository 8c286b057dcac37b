import type { Context } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { config } from "../config";
import type { AppEnv } from "../context";
import { ApiError, type FieldErrors, fieldErrors, notFound } from "../lib/errors";
import { USER_ROLES } from "../lib/values";
import { refreshAccount } from "../middleware/auth";
import { setSessionCookie } from "../middleware/session-cookie";
import { AcceptBody, InviteBody } from "../routes/team/team.schemas";
import { CREATED_KINDS, createdBy } from "../services/created-by";
import { keepOnce, takeOnce } from "../services/one-time";
import {
  acceptInvitation,
  invitationByToken,
  invite,
  mailInvitation,
  removeMember,
  revokeInvitation,
  teamView,
} from "../services/team";
import { str } from "./auth";
import { attrs, capitalize, count, csrfField, field, type Html, notice, selectField, when } from "./components";
import { pageUser, renderPage } from "./layout";

type Team = Awaited<ReturnType<typeof teamView>>;

interface InviteState {
  email?: string;
  role?: string;
  errors: FieldErrors;
  problem?: Html | string;
}

const ROLE_OPTIONS = USER_ROLES.map((r) => ({ value: r, label: capitalize(r) }));

/**
 * Settings → Team (`/app/settings/team`): members with their roles, pending invitations,
 * seats used of the plan's limit. Owners invite, revoke and remove (those routes are behind
 * `ownerOnly()`); members see the same lists without the controls.
 */
async function teamPage(c: Context<AppEnv>, s: InviteState = { errors: {} }, status: ContentfulStatusCode = 200) {
  const team = await teamView(c.get("directory"), c.get("account"), c.get("now"));
  const me = pageUser(c);
  const full = team.seats_used >= team.seats_limit;
  const flash = c.req.query("revoked")
    ? notice("ok", "The invitation was revoked; its link no longer works.")
    : c.req.query("removed")
      ? notice(
          "ok",
          `${c.req.query("removed")} was removed and logged out.${
            Number(c.req.query("disabled")) > 0
              ? ` ${c.req.query("disabled")} endpoint${c.req.query("disabled") === "1" ? " they added was" : "s they added were"} disabled.`
              : ""
          }`,
        )
      : "";
  const once = await takeOnce(
    c.get("db"),
    config(c.env).SECRETS_KEY,
    c.get("user").id,
    "invitation_link",
    c.req.query("invited"),
    c.get("now"),
  ).catch(() => null);
  const shown = once
    ? html`<div class="notice warn" role="status" id="invited">
  <p><strong>Invitation for ${once.subject} created.</strong> ${
    c.req.query("mailed") === "1"
      ? html`We mailed them the link.`
      : html`The mail could not be sent: give them the link yourself.`
  } It works once, for 7 days, and is not shown here again.</p>
  <p><label for="invite-link">Invitation link</label></p>
  <div class="row"><input id="invite-link" class="token" type="text" readonly value="${once.value}">
  <button type="button" class="secondary" data-copy="invite-link">Copy</button></div>
</div>`
    : c.req.query("invited")
      ? notice(
          "info",
          "The invitation was created; its link is shown only once, right after. Revoke it and invite again if you need a new one.",
        )
      : "";
  return renderPage(
    c,
    { title: "Team", user: me, section: "team" },
    html`<h1>Team</h1>${flash}${shown}
<p id="seats">Seats: <strong>${count(team.seats_used)} of ${count(team.seats_limit)}</strong> in use
<span class="muted">(owners, members and pending invitations)</span>.</p>
${membersTable(team, c.get("user").id, me.owner)}
${invitationsTable(team, me.owner)}
${me.owner ? inviteForm(c, s, full) : html`<p class="muted">Only an owner can invite or remove people.</p>`}`,
    status,
  );
}

function membersTable(team: Team, myId: string, owner: boolean) {
  return html`<h2>Members</h2>
<div class="table-wrap"><table id="members" class="stack">
<thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Joined</th>${
    owner ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : ""
  }</tr></thead>
<tbody>${team.members.map(
    (
      m,
    ) => html`<tr><td data-label="Name">${m.name}${m.id === myId ? html` <span class="muted">(you)</span>` : ""}</td><td data-label="Email" class="wrap">${m.email}</td>
<td data-label="Role">${capitalize(m.role)}</td><td data-label="Joined">${when(m.created_at)}</td>${
      owner
        ? html`<td data-label="">${
            m.id === myId
              ? ""
              : html`<a class="btn secondary small" href="/app/settings/team/members/${m.id}/remove">Remove<span class="sr-only"> ${m.name}</span></a>`
          }</td>`
        : ""
    }</tr>`,
  )}</tbody>
</table></div>`;
}

function invitationsTable(team: Team, owner: boolean) {
  if (team.invitations.length === 0) return html`<h2>Pending invitations</h2><p class="muted">None.</p>`;
  return html`<h2>Pending invitations</h2>
<div class="table-wrap"><table id="invitations" class="stack">
<thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Expires</th>${
    owner ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : ""
  }</tr></thead>
<tbody>${team.invitations.map(
    (i) =>
      html`<tr><td data-label="Email" class="wrap">${i.email}</td><td data-label="Role">${capitalize(i.role)}</td><td data-label="Expires">${when(i.expires_at)}</td>${
        owner
          ? html`<td data-label=""><a class="btn secondary small" href="/app/settings/team/invitations/${i.id}/revoke">Revoke<span class="sr-only"> the invitation for ${i.email}</span></a></td>`
          : ""
      }</tr>`,
  )}</tbody>
</table></div>`;
}

function inviteForm(c: Context<AppEnv>, s: InviteState, full: boolean) {
  return html`<h2 id="invite-h">Invite someone</h2>
${s.problem ? notice("error", s.problem) : ""}
${
  full && !s.problem
    ? notice(
        "warn",
        html`Every seat of your plan is in use. <a href="/app/settings/plan">Upgrade</a>, or revoke an invitation or remove a member first.`,
      )
    : ""
}
<form method="post" action="/app/settings/team/invitations" class="card" aria-labelledby="invite-h" novalidate>
  ${csrfField(c.get("csrf"))}
  <div class="grid2">
  ${field({ name: "email", label: "Email", type: "email", value: s.email, errors: s.errors, required: true, autocomplete: "off" })}
  ${selectField({ name: "role", label: "Role", options: ROLE_OPTIONS, value: s.role ?? "member", errors: s.errors, hint: "Owners also manage the plan, the API token and the team." })}
  </div>
  <p class="hint">We mail them a link that works once, for 7 days; you see it once too.</p>
  <button type="submit">Send invitation</button>
</form>`;
}

export const teamSettingsPage = (c: Context<AppEnv>) => teamPage(c);

/**
 * `POST /app/settings/team/invitations`: the same schema and service as `POST /account/invitations`;
 * the link is mailed to the invitee, kept for one view and the page redirected to shows it
 * (a reload creates nothing).
 */
export async function inviteSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const s: InviteState = { email: str(form.email), role: str(form.role), errors: {} };
  const parsed = InviteBody.safeParse({ email: s.email, role: s.role || undefined });
  if (!parsed.success) return teamPage(c, { ...s, errors: fieldErrors(parsed.error.issues) }, 422);
  const now = c.get("now");
  try {
    const { path, invitation } = await invite(c.get("directory"), c.get("account"), c.get("user").id, parsed.data, now);
    const link = new URL(path, c.req.url).href;
    const mail = await mailInvitation(c.env, c.get("db"), {
      to: invitation.email,
      link,
      accountName: c.get("account").name,
      inviterName: c.get("user").name,
      role: invitation.role,
      expiresAt: invitation.expires_at,
    });
    const id = await keepOnce(
      c.get("db"),
      config(c.env).SECRETS_KEY,
      c.get("user").id,
      "invitation_link",
      link,
      invitation.email,
      now,
    );
    return c.redirect(`/app/settings/team?invited=${id}&mailed=${mail.sent ? 1 : 0}#invited`, 303);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === "conflict") return teamPage(c, { ...s, errors: { email: [err.message] } }, 409);
    if (err.code === "plan_limit_reached") return teamPage(c, { ...s, problem: err.message }, 403);
    throw err;
  }
}

/** Revoking asks first (the link stops working; a new invitation is a new link). */
export async function revokeInvitationPage(c: Context<AppEnv>) {
  const team = await teamView(c.get("directory"), c.get("account"), c.get("now"));
  const invitation = team.invitations.find((i) => i.id === c.req.param("id"));
  if (!invitation) throw notFound("Invitation");
  return renderPage(
    c,
    { title: "Revoke invitation", user: pageUser(c), section: "team", narrow: true },
    html`<h1 class="wrap">Revoke the invitation for ${invitation.email}?</h1>
<p>Its link stops working at once and the seat is free again. You can invite them again later (with a new link).</p>
<form method="post" action="/app/settings/team/invitations/${invitation.id}/revoke" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit" class="danger">Revoke invitation</button>
  <a href="/app/settings/team">Keep it</a>
</form>`,
  );
}

export async function revokeInvitationSubmit(c: Context<AppEnv>) {
  await revokeInvitation(c.get("directory"), c.get("account").id, c.req.param("id") ?? "");
  return c.redirect("/app/settings/team?revoked=1", 303);
}

/**
 * Removing someone asks first, on a page of its own (works without script), and lists what
 * they added that acts for the account (webhook endpoints, alert channels): each is disabled
 * with them unless the owner ticks "keep".
 */
export async function removeMemberPage(c: Context<AppEnv>) {
  const team = await teamView(c.get("directory"), c.get("account"), c.get("now"));
  const member = team.members.find((m) => m.id === c.req.param("id"));
  if (!member || member.id === c.get("user").id) throw notFound("Member");
  const things = (await createdBy(c.get("db"), member.id)).filter((t) => t.enabled);
  const groups = Object.entries(CREATED_KINDS)
    .map(([kind, k]) => ({ title: k.title, items: things.filter((t) => t.kind === kind) }))
    .filter((g) => g.items.length > 0);
  return renderPage(
    c,
    { title: `Remove ${member.name}`, user: pageUser(c), section: "team", narrow: true },
    html`<h1>Remove ${member.name}?</h1>
<p>${member.name} (${member.email}, ${member.role}) loses access to this account at once: their sessions end
and they cannot log in again. The account's websites and screenshots stay.</p>
<form method="post" action="/app/settings/team/members/${member.id}/remove">
  ${csrfField(c.get("csrf"))}
  ${
    groups.length
      ? html`<fieldset id="created-by"><legend>What ${member.name} added</legend>
<p class="hint">These keep sending the account's events. Each is <strong>disabled</strong> with ${member.name}
unless you keep it.</p>
${groups.map(
  (g) => html`<p><strong>${g.title}</strong></p>
${g.items.map(
  (t) => html`<div class="field"><label class="check"><input${attrs({ type: "checkbox", name: "keep", value: t.id })}>
Keep <span class="wrap">${t.label}</span></label></div>`,
)}`,
)}
</fieldset>`
      : html`<p class="muted" id="created-none">${member.name} added no ${Object.values(CREATED_KINDS)
          .map((k) => k.title.toLowerCase())
          .join(" or ")}.</p>`
  }
  <p class="row"><button type="submit" class="danger">Remove ${member.name}</button>
  <a href="/app/settings/team">Keep them</a></p>
</form>`,
  );
}

export async function removeMemberSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody({ all: true });
  const keep = new Set(([] as unknown[]).concat(form.keep ?? []).filter((v): v is string => typeof v === "string"));
  const { name, disabled } = await removeMember(
    c.get("directory"),
    c.get("db"),
    c.get("account").id,
    c.get("user").id,
    c.req.param("id") ?? "",
    keep,
    c.get("now"),
  );
  return c.redirect(`/app/settings/team?removed=${encodeURIComponent(name)}&disabled=${disabled.length}`, 303);
}

/** A link that is unknown, used, revoked or expired: one clear page, the same for all (nothing to probe). */
const invalidInvitation = (c: Context<AppEnv>) =>
  renderPage(
    c,
    { title: "Invitation not valid", narrow: true },
    html`<h1>This invitation link does not work</h1>
<p>It may have been used already, revoked, or it expired (links work once, for 7 days).
Ask an owner of the account for a new one.</p>
<p><a href="/login">Log in</a> if you already have a login.</p>`,
    404,
  );

async function acceptForm(
  c: Context<AppEnv>,
  token: string,
  values: { name?: string },
  errors: FieldErrors = {},
  status: ContentfulStatusCode = 200,
) {
  let invitation: Awaited<ReturnType<typeof invitationByToken>>;
  try {
    invitation = await invitationByToken(c.get("directory"), token, c.get("now"));
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_found") return invalidInvitation(c);
    throw err;
  }
  return renderPage(
    c,
    { title: "Join a team", narrow: true },
    html`<h1>Join ${invitation.account_name} on SnapTrack</h1>
<dl class="meta" id="invitation">
  <dt>Account</dt><dd>${invitation.account_name}</dd>
  <dt>Your email</dt><dd>${invitation.email}</dd>
  <dt>Role</dt><dd>${capitalize(invitation.role)}</dd>
  <dt>Link valid until</dt><dd>${when(invitation.expires_at)}</dd>
</dl>
${Object.keys(errors).length ? notice("error", "Check the fields marked below.") : ""}
<form method="post" action="/invite/${token}" novalidate>
  ${field({ name: "name", label: "Your name", value: values.name, errors, required: true, autocomplete: "name" })}
  ${field({
    name: "password",
    label: "Choose a password",
    type: "password",
    errors,
    required: true,
    autocomplete: "new-password",
    hint: "At least 10 characters.",
  })}
  <button type="submit">Join and log in</button>
</form>`,
    status,
  );
}

/** `GET /invite/:token`: who invites whom, as what; a form for name and password. */
export const invitationPage = (c: Context<AppEnv>) => acceptForm(c, c.req.param("token") ?? "", {});

/** `POST /invite/:token`: the same schema and service as `POST /auth/accept-invitation`; logs the new user in. */
export async function acceptInvitationSubmit(c: Context<AppEnv>) {
  const token = c.req.param("token") ?? "";
  const form = await c.req.parseBody();
  const values = { token, name: str(form.name), password: str(form.password) };
  const parsed = AcceptBody.safeParse(values);
  if (!parsed.success) return acceptForm(c, token, values, fieldErrors(parsed.error.issues), 422);
  try {
    const { sessionId, account } = await acceptInvitation(c.get("directory"), parsed.data, c.get("now"));
    await refreshAccount(c, account.id);
    setSessionCookie(c, sessionId);
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_found") return invalidInvitation(c);
    throw err;
  }
  return c.redirect("/app", 303);
}
