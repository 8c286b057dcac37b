import type { Context } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../context";
import { ApiError, type FieldErrors, fieldErrors } from "../lib/errors";
import { outboxOf } from "../middleware/auth";
import { clearSessionCookie } from "../middleware/session-cookie";
import { DeleteAccountBody, PasswordChangeBody, RenameBody } from "../routes/account/account.schemas";
import { PasswordResetConfirm } from "../routes/auth/auth.schemas";
import {
  changePassword,
  confirmPasswordReset,
  deleteAccount,
  RESET_TTL,
  renameUser,
  requestPasswordReset,
  resetFor,
} from "../services/account-settings";
import { isOwner } from "../services/auth";
import { accountSummary } from "../services/dashboard";
import { str } from "./auth";
import { capitalize, count, csrfField, field, notice } from "./components";
import { pageUser, renderPage } from "./layout";

/**
 * The Account page (`/app/account`), for each user: their name, their password, and — for
 * owners — deleting the account with everything in it. Through the same schemas and services
 * as `PATCH /account`, `POST /account/password` and `DELETE /account`.
 */
const ACCOUNT = "/app/account";

interface AccountState {
  name?: string;
  errors: FieldErrors;
  /** Which form the errors belong to. */
  form?: "name" | "password";
}

async function accountPage(c: Context<AppEnv>, s: AccountState = { errors: {} }, status: ContentfulStatusCode = 200) {
  const user = c.get("user");
  const owner = isOwner(user);
  const csrf = csrfField(c.get("csrf"));
  const saved = c.req.query("saved");
  const flash =
    saved === "name"
      ? notice("ok", "Your name was saved.")
      : saved === "password"
        ? notice("ok", "Your password was changed. Your other sessions were logged out; this one stays.")
        : "";
  const errorsOf = (form: AccountState["form"]) => (s.form === form ? s.errors : {});
  const problem = (form: AccountState["form"]) =>
    s.form === form && Object.keys(s.errors).length ? notice("error", "Check the fields marked below.") : "";
  return renderPage(
    c,
    { title: "Your account", user: pageUser(c), section: "account", narrow: true },
    html`<h1>Your account</h1>${flash}
<dl class="meta" id="who">
  <dt>Email</dt><dd>${user.email}</dd>
  <dt>Role</dt><dd>${capitalize(user.role)} of ${c.get("account").name}</dd>
</dl>
<p class="hint muted">Your email is your login and cannot be changed here.</p>

<h2 id="name-h">Name</h2>
${problem("name")}
<form method="post" action="${ACCOUNT}/name" novalidate aria-labelledby="name-h" class="card">
  ${csrf}
  ${field({
    name: "name",
    label: "Your name",
    value: s.form === "name" ? s.name : user.name,
    errors: errorsOf("name"),
    required: true,
    autocomplete: "name",
    hint: owner ? "As an owner, your name also names the account (invitations show it)." : undefined,
  })}
  <button type="submit">Save name</button>
</form>

<h2 id="password-h">Password</h2>
${problem("password")}
<form method="post" action="${ACCOUNT}/password" novalidate aria-labelledby="password-h" class="card">
  ${csrf}
  <input type="text" name="username" value="${user.email}" autocomplete="username" hidden>
  ${field({ name: "current_password", label: "Current password", type: "password", errors: errorsOf("password"), required: true, autocomplete: "current-password" })}
  ${field({ name: "new_password", label: "New password", type: "password", errors: errorsOf("password"), required: true, autocomplete: "new-password", hint: "At least 10 characters. Your other sessions are logged out." })}
  <button type="submit">Change password</button>
</form>
<p class="muted">Forgot it? <a href="/password-reset">Get a reset link by mail</a>.</p>

<h2 id="delete-h">Delete the account</h2>
${
  owner
    ? html`<p>Deletes ${c.get("account").name} for everyone in it: its websites, screenshots, scenarios, schedules,
webhooks, members and the API token. It cannot be undone.</p>
<p><a class="btn danger" href="${ACCOUNT}/delete" id="delete-account">Delete the account…</a></p>`
    : html`<p class="muted">Only an owner can delete the account. To leave it, ask an owner to remove you.</p>`
}`,
    status,
  );
}

export const accountPageRoute = (c: Context<AppEnv>) => accountPage(c);

export async function renameSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const name = str(form.name);
  const parsed = RenameBody.safeParse({ name });
  if (!parsed.success) return accountPage(c, { name, form: "name", errors: fieldErrors(parsed.error.issues) }, 422);
  const host = c.get("host");
  await renameUser(
    c.get("directory"),
    () => host.invalidate(),
    c.get("user"),
    c.get("account").id,
    parsed.data.name,
    c.get("now"),
  );
  return c.redirect(`${ACCOUNT}?saved=name`, 303);
}

/** A refusal shown beside the form's fields (a wrong password), or the throttle's message above it. */
function refused(err: unknown): FieldErrors {
  if (!(err instanceof ApiError)) throw err;
  if (err.code === "validation_failed" && err.errors) return err.errors;
  if (err.code === "rate_limited") return { body: [err.message] };
  throw err;
}

export async function passwordSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const input = { current_password: str(form.current_password), new_password: str(form.new_password) };
  const parsed = PasswordChangeBody.safeParse(input);
  if (!parsed.success) return accountPage(c, { form: "password", errors: fieldErrors(parsed.error.issues) }, 422);
  try {
    await changePassword(
      c.get("directory"),
      c.get("deps").loginThrottle(c.env),
      c.get("user"),
      c.get("sessionId"),
      parsed.data,
      c.get("now"),
      c.get("requestId"),
    );
  } catch (err) {
    const errors = refused(err);
    return accountPage(c, { form: "password", errors }, errors.body ? 429 : 422);
  }
  return c.redirect(`${ACCOUNT}?saved=password`, 303);
}

async function deletePage(c: Context<AppEnv>, errors: FieldErrors = {}, status: ContentfulStatusCode = 200) {
  if (!isOwner(c.get("user"))) throw new ApiError("forbidden", "Only an owner of the account can delete it.");
  const summary = await accountSummary(c.get("db"));
  const account = c.get("account");
  return renderPage(
    c,
    { title: "Delete the account", user: pageUser(c), section: "account", narrow: true },
    html`<p><a href="${ACCOUNT}">← Your account</a></p>
<h1 class="wrap">Delete ${account.name} and everything in it?</h1>
${errors.body ? notice("error", errors.body.join(" ")) : Object.keys(errors).length ? notice("error", "Check the field marked below.") : ""}
<p>This deletes, for everyone in the account, at once and for good:</p>
<ul id="what-goes">
  <li>${count(summary.websites)} website${summary.websites === 1 ? "" : "s"} with ${count(summary.screenshots)} screenshot${summary.screenshots === 1 ? "" : "s"} and their images</li>
  <li>${count(summary.scenarios)} scenario${summary.scenarios === 1 ? "" : "s"} with their runs, and ${count(summary.schedules)} schedule${summary.schedules === 1 ? "" : "s"}</li>
  <li>${count(summary.webhooks)} webhook endpoint${summary.webhooks === 1 ? "" : "s"} and their delivery logs</li>
  <li>Every login of the account (members too), pending invitations and the API token</li>
</ul>
<p>It cannot be undone. Download what you want to keep first.</p>
<form method="post" action="${ACCOUNT}/delete" novalidate class="card">
  ${csrfField(c.get("csrf"))}
  <input type="text" name="username" value="${c.get("user").email}" autocomplete="username" hidden>
  ${field({ name: "password", label: "Your password, to confirm", type: "password", errors, required: true, autocomplete: "current-password" })}
  <p class="row"><button type="submit" class="danger" id="confirm-delete">Delete the account for good</button>
  <a href="${ACCOUNT}">Keep it</a></p>
</form>`,
    status,
  );
}

export const deleteAccountPage = (c: Context<AppEnv>) => deletePage(c);

export async function deleteAccountSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const parsed = DeleteAccountBody.safeParse({ password: str(form.password) });
  if (!parsed.success) return deletePage(c, fieldErrors(parsed.error.issues), 422);
  const host = c.get("host");
  try {
    await deleteAccount(
      c.get("directory"),
      c.get("deps").loginThrottle(c.env),
      c.env.JOBS,
      () => host.erase(),
      c.get("user"),
      c.get("account").id,
      parsed.data.password,
      c.get("now"),
      c.get("requestId"),
    );
  } catch (err) {
    const errors = refused(err);
    return deletePage(c, errors, errors.body ? 429 : 422);
  }
  clearSessionCookie(c);
  return c.redirect("/?deleted=1", 303);
}

// ---- Password reset (no session: the login page links here) ------------------------------

function forgotForm(
  c: Context<AppEnv>,
  values: { email?: string },
  errors: FieldErrors = {},
  status: ContentfulStatusCode = 200,
) {
  const sent = c.req.query("sent");
  return renderPage(
    c,
    { title: "Reset your password", narrow: true },
    html`<h1>Reset your password</h1>
${
  sent
    ? notice(
        "ok",
        html`If that email has a SnapTrack login, a reset link is on its way. It works once, for ${RESET_TTL / 60_000} minutes.`,
      )
    : ""
}
<p>Enter your login's email: we mail you a link to choose a new password.</p>
<form method="post" action="/password-reset" novalidate>
  ${field({ name: "email", label: "Email", type: "email", value: values.email, errors, required: true, autocomplete: "username" })}
  <button type="submit">Mail me a reset link</button>
</form>
<p><a href="/login">Back to log in</a></p>`,
    status,
  );
}

export const forgotPage = (c: Context<AppEnv>) => forgotForm(c, {});

/** Always the same answer (nothing tells whether the email has a login); PRG, so a reload sends nothing. */
export async function forgotSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const email = str(form.email).trim().slice(0, 254);
  if (!email.includes("@")) return forgotForm(c, { email }, { email: ["Must be an email address"] }, 422);
  await requestPasswordReset(c.get("directory"), c.env, outboxOf(c), email, c.req.url, c.get("now"));
  return c.redirect("/password-reset?sent=1", 303);
}

const invalidLink = (c: Context<AppEnv>) =>
  renderPage(
    c,
    { title: "Link not valid", narrow: true },
    html`<h1>This reset link does not work</h1>
<p>It was used already, or it expired (links work once, for ${RESET_TTL / 60_000} minutes).</p>
<p><a class="btn" href="/password-reset">Get a new link</a></p>`,
    404,
  );

async function resetForm(
  c: Context<AppEnv>,
  token: string,
  errors: FieldErrors = {},
  status: ContentfulStatusCode = 200,
) {
  let email: string;
  try {
    email = (await resetFor(c.get("directory"), token, c.get("now"))).email;
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_found") return invalidLink(c);
    throw err;
  }
  return renderPage(
    c,
    { title: "Choose a new password", narrow: true },
    html`<h1>Choose a new password</h1>
<p>For <strong id="reset-email">${email}</strong>. Every session of this login is logged out.</p>
${Object.keys(errors).length ? notice("error", "Check the field marked below.") : ""}
<form method="post" action="/reset-password/${token}" novalidate>
  <input type="text" name="username" value="${email}" autocomplete="username" hidden>
  ${field({ name: "password", label: "New password", type: "password", errors, required: true, autocomplete: "new-password", hint: "At least 10 characters." })}
  <button type="submit">Set password</button>
</form>`,
    status,
  );
}

export const resetPage = (c: Context<AppEnv>) => resetForm(c, c.req.param("token") ?? "");

export async function resetSubmit(c: Context<AppEnv>) {
  const token = c.req.param("token") ?? "";
  const form = await c.req.parseBody();
  const parsed = PasswordResetConfirm.safeParse({ token, password: str(form.password) });
  if (!parsed.success) return resetForm(c, token, fieldErrors(parsed.error.issues), 422);
  try {
    await confirmPasswordReset(c.get("directory"), parsed.data, c.get("now"));
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_found") return invalidLink(c);
    throw err;
  }
  clearSessionCookie(c);
  return c.redirect("/login?reset=1", 303);
}
