import type { Context } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../context";
import { ApiError, type FieldErrors, fieldErrors, notFound } from "../lib/errors";
import { USER_ROLES } from "../lib/values";
import { setSessionCookie } from "../middleware/session-cookie";
import { AcceptBody, InviteBody } from "../routes/team/team.schemas";
import { disableChannelsCreatedBy, REMOVED_CREATOR_REASON } from "../services/alert-channels";
import {
  acceptInvitation,
  invitationByToken,
  invite,
  removeMember,
  revokeInvitation,
  teamView,
} from "../services/team";
import { str } from "./auth";
import { capitalize, count, csrfField, field, type Html, notice, selectField, when } from "./components";
import { pageUser, renderPage } from "./layout";

type Team = Awaited<ReturnType<typeof teamView>>;

interface InviteState {
  email?: string;
  role?: string;
  errors: FieldErrors;
  problem?: Html | string;
  /** The single-use link, shown in this one response only. */
  link?: string;
  invited?: string;
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
  const csrf = csrfField(c.get("csrf"));
  const full = team.seats_used >= team.seats_limit;
  const flash = c.req.query("revoked")
    ? notice("ok", "The invitation was revoked; its link no longer works.")
    : c.req.query("removed")
      ? notice("ok", "The member was removed and logged out.")
      : "";
  const shown = s.link
    ? html`<div class="notice warn" role="status">
  <p><strong>Invitation for ${s.invited} created.</strong> No mail is sent: give them this link. It works once,
  for 7 days, and is not shown again.</p>
  <p><label for="invite-link">Invitation link</label></p>
  <div class="row"><input id="invite-link" class="token" type="text" readonly value="${s.link}">
  <button type="button" class="secondary" data-copy="invite-link">Copy</button></div>
</div>`
    : "";
  return renderPage(
    c,
    { title: "Team", user: me, section: "team" },
    html`<h1>Team</h1>${flash}${shown}
<p id="seats">Seats: <strong>${count(team.seats_used)} of ${count(team.seats_limit)}</strong> in use
<span class="muted">(owners, members and pending invitations)</span>.</p>
${membersTable(team, c.get("user").id, me.owner)}
${invitationsTable(team, me.owner, csrf)}
${me.owner ? inviteForm(c, s, full) : html`<p class="muted">Only an owner can invite or remove people.</p>`}`,
    status,
  );
}

function membersTable(team: Team, myId: string, owner: boolean) {
  return html`<h2>Members</h2>
<div class="table-wrap"><table id="members">
<thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Joined</th>${
    owner ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : ""
  }</tr></thead>
<tbody>${team.members.map(
    (
      m,
    ) => html`<tr><td>${m.name}${m.id === myId ? html` <span class="muted">(you)</span>` : ""}</td><td class="wrap">${m.email}</td>
<td>${capitalize(m.role)}</td><td>${when(m.created_at)}</td>${
      owner
        ? html`<td>${
            m.id === myId
              ? ""
              : html`<a class="btn secondary small" href="/app/settings/team/members/${m.id}/remove">Remove<span class="sr-only"> ${m.name}</span></a>`
          }</td>`
        : ""
    }</tr>`,
  )}</tbody>
</table></div>`;
}

function invitationsTable(team: Team, owner: boolean, csrf: Html) {
  if (team.invitations.length === 0) return html`<h2>Pending invitations</h2><p class="muted">None.</p>`;
  return html`<h2>Pending invitations</h2>
<div class="table-wrap"><table id="invitations">
<thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Expires</th>${
    owner ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : ""
  }</tr></thead>
<tbody>${team.invitations.map(
    (i) =>
      html`<tr><td class="wrap">${i.email}</td><td>${capitalize(i.role)}</td><td>${when(i.expires_at)}</td>${
        owner
          ? html`<td><form method="post" action="/app/settings/team/invitations/${i.id}/revoke" class="inline">${csrf}
<button type="submit" class="secondary small">Revoke<span class="sr-only"> the invitation for ${i.email}</span></button></form></td>`
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
  <button type="submit">Create invitation link</button>
</form>`;
}

export const teamSettingsPage = (c: Context<AppEnv>) => teamPage(c);

/** `POST /app/settings/team/invitations`: the same schema and service as `POST /account/invitations`. */
export async function inviteSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const s: InviteState = { email: str(form.email), role: str(form.role), errors: {} };
  const parsed = InviteBody.safeParse({ email: s.email, role: s.role || undefined });
  if (!parsed.success) return teamPage(c, { ...s, errors: fieldErrors(parsed.error.issues) }, 422);
  try {
    const { path, invitation } = await invite(
      c.get("directory"),
      c.get("account"),
      c.get("user").id,
      parsed.data,
      c.get("now"),
    );
    // Answered directly (not a redirect): the link exists only in this response.
    return teamPage(c, { errors: {}, link: new URL(path, c.req.url).href, invited: invitation.email }, 201);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === "conflict") return teamPage(c, { ...s, errors: { email: [err.message] } }, 409);
    if (err.code === "plan_limit_reached") return teamPage(c, { ...s, problem: err.message }, 403);
    throw err;
  }
}

export async function revokeInvitationSubmit(c: Context<AppEnv>) {
  await revokeInvitation(c.get("directory"), c.get("account").id, c.req.param("id") ?? "");
  return c.redirect("/app/settings/team?revoked=1", 303);
}

/** Removing someone asks first, on a page of its own (works without script). */
export async function removeMemberPage(c: Context<AppEnv>) {
  const team = await teamView(c.get("directory"), c.get("account"), c.get("now"));
  const member = team.members.find((m) => m.id === c.req.param("id"));
  if (!member || member.id === c.get("user").id) throw notFound("Member");
  return renderPage(
    c,
    { title: `Remove ${member.name}`, user: pageUser(c), section: "team", narrow: true },
    html`<h1>Remove ${member.name}?</h1>
<p>${member.name} (${member.email}, ${member.role}) loses access to this account at once: their sessions end
and they cannot log in again. The account's websites and screenshots stay.</p>
<form method="post" action="/app/settings/team/members/${member.id}/remove" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit" class="danger">Remove ${member.name}</button>
  <a href="/app/settings/team">Keep them</a>
</form>`,
  );
}

export async function removeMemberSubmit(c: Context<AppEnv>) {
  const memberId = c.req.param("id") ?? "";
  await removeMember(c.get("directory"), c.get("account").id, c.get("user").id, memberId);
  // What they added keeps acting for the account: their alert channels stop (an owner may enable them again).
  await disableChannelsCreatedBy(c.get("db"), memberId, REMOVED_CREATOR_REASON, c.get("now"));
  return c.redirect("/app/settings/team?removed=1", 303);
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
    const { sessionId } = await acceptInvitation(c.get("directory"), parsed.data, c.get("now"));
    setSessionCookie(c, sessionId);
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_found") return invalidInvitation(c);
    throw err;
  }
  return c.redirect("/app", 303);
}
