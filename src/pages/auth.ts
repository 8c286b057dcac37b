import type { Context } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../context";
import { ApiError, type FieldErrors, fieldErrors } from "../lib/errors";
import { PLANS, type Plan } from "../limits/plans";
import { usageOf } from "../middleware/auth";
import { clearSessionCookie, readSessionCookie, setSessionCookie } from "../middleware/session-cookie";
import { Signup } from "../routes/auth/auth.schemas";
import { endSession, login, resolveSession, signupWithSession } from "../services/auth";
import { count, field, notice } from "./components";
import { renderPage } from "./layout";
import { PAYMENT_NOTE, plansTable } from "./prices";
import { safeNext } from "./session";

export const str = (v: unknown) => (typeof v === "string" ? v : "");

/** `GET /` for browsers: the landing page, or the dashboard when a session is open. */
export async function landing(c: Context<AppEnv>) {
  const sessionId = readSessionCookie(c);
  if (sessionId && (await resolveSession(c.get("directory"), sessionId, c.get("now")))) return c.redirect("/app", 303);
  const { free } = PLANS;
  const signup = (p: Plan) =>
    html`<a class="btn${p.id === "pro" ? "" : " secondary"}" href="/signup">${p.price.monthly ? `Start on Free, upgrade any time` : "Sign up free"}</a>`;
  return renderPage(
    c,
    { title: "Screenshot monitoring" },
    html`${c.req.query("deleted") ? notice("ok", "Your account and everything in it were deleted. Thank you for trying SnapTrack.") : ""}
<section class="hero">
<div class="hero-text">
<h1>See what changed on your websites</h1>
<ul class="three" id="what-it-does">
  <li><strong>Captures</strong> your pages on demand, on a schedule, or inside scripted browser scenarios.</li>
  <li><strong>Compares</strong> every capture with the last one and outlines what changed, pixel by pixel.</li>
  <li><strong>Tells you and your tools</strong>: a change history in the dashboard, signed webhooks and a REST API.</li>
</ul>
<p class="row"><a class="btn" href="/signup">Sign up free</a> <a class="btn secondary" href="/login">Log in</a>
<a href="/docs">API reference</a></p>
<p class="muted">Free: ${free.websites} website, ${count(free.capturesPerDay)} captures a day, no card needed.</p>
</div>
<figure class="hero-shot">
  <img src="/landing/compare.jpg" width="1168" height="731" alt="SnapTrack's diff of a bakery's website: the page faded, what changed in red — a new banner, a price, a sold-out item — each changed region outlined">
  <figcaption class="muted">A real SnapTrack comparison: a banner appeared, a price went up and an item sold out. Each changed region is outlined.</figcaption>
</figure>
</section>
<h2 id="pricing">Plans and prices</h2>
<p class="muted">${PAYMENT_NOTE} Prices in US dollars; yearly plans cost ten months.</p>
${plansTable(signup)}`,
  );
}

function signupForm(
  c: Context<AppEnv>,
  values: { email?: string; name?: string },
  errors: FieldErrors = {},
  status: ContentfulStatusCode = 200,
) {
  return renderPage(
    c,
    { title: "Sign up", narrow: true },
    html`<h1>Create your account</h1>
${Object.keys(errors).length ? notice("error", "Check the fields marked below.") : ""}
<form method="post" action="/signup" novalidate>
  ${field({ name: "name", label: "Your name", value: values.name, errors, required: true, autocomplete: "name" })}
  ${field({ name: "email", label: "Email", type: "email", value: values.email, errors, required: true, autocomplete: "email" })}
  ${field({
    name: "password",
    label: "Password",
    type: "password",
    errors,
    required: true,
    autocomplete: "new-password",
    hint: "At least 10 characters.",
  })}
  <button type="submit">Sign up</button>
</form>
<p>Already have an account? <a href="/login">Log in</a></p>`,
    status,
  );
}

export const signupPage = (c: Context<AppEnv>) => signupForm(c, {});

/** `POST /signup`: the same rules as `POST /auth/signup` (its schema, its service). */
export async function signupSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const values = { email: str(form.email), name: str(form.name), password: str(form.password) };
  const parsed = Signup.safeParse(values);
  if (!parsed.success) return signupForm(c, values, fieldErrors(parsed.error.issues), 422);
  try {
    const { sessionId } = await signupWithSession(c.get("directory"), parsed.data, c.get("now"));
    setSessionCookie(c, sessionId);
  } catch (err) {
    if (err instanceof ApiError && err.code === "conflict") {
      return signupForm(c, values, { email: ["An account with this email already exists. Log in instead."] }, 409);
    }
    throw err;
  }
  return c.redirect("/app", 303);
}

function loginForm(
  c: Context<AppEnv>,
  values: { email?: string; next?: string },
  problem?: string,
  status: ContentfulStatusCode = 200,
) {
  return renderPage(
    c,
    { title: "Log in", narrow: true },
    html`<h1>Log in</h1>
${problem ? notice("error", problem) : c.req.query("reset") ? notice("ok", "Your password was changed, and every session logged out. Log in with the new one.") : ""}
<form method="post" action="/login">
  <input type="hidden" name="next" value="${safeNext(values.next)}">
  ${field({ name: "email", label: "Email", type: "email", value: values.email, required: true, autocomplete: "username" })}
  ${field({ name: "password", label: "Password", type: "password", required: true, autocomplete: "current-password" })}
  <button type="submit">Log in</button>
</form>
<p><a href="/password-reset" id="forgot">Forgot your password?</a></p>
<p>New here? <a href="/signup">Create an account</a></p>`,
    status,
  );
}

export const loginPage = (c: Context<AppEnv>) => loginForm(c, { next: c.req.query("next") });

/** `POST /login`: the same throttled login as `POST /auth/login` (failures counted, 429 past the limit). */
export async function loginSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const values = {
    email: str(form.email).slice(0, 254),
    password: str(form.password).slice(0, 256),
    next: str(form.next),
  };
  try {
    const { sessionId } = await login(
      c.get("directory"),
      c.get("deps").loginThrottle(c.env),
      usageOf(c),
      {
        email: values.email,
        password: values.password,
        address: c.req.header("CF-Connecting-IP"),
        previousSession: readSessionCookie(c),
      },
      c.get("now"),
      c.get("requestId"),
    );
    setSessionCookie(c, sessionId);
  } catch (err) {
    if (err instanceof ApiError && (err.code === "unauthorized" || err.code === "rate_limited")) {
      const res = await loginForm(c, values, err.message, err.status as ContentfulStatusCode);
      const retry = err.headers["Retry-After"];
      if (retry) res.headers.set("Retry-After", retry);
      return res;
    }
    throw err;
  }
  return c.redirect(safeNext(values.next), 303);
}

/** `POST /logout` (behind pageSession, so the CSRF token is checked): ends the session on the server. */
export async function logoutSubmit(c: Context<AppEnv>) {
  await endSession(c.get("directory"), c.get("sessionId"));
  clearSessionCookie(c);
  return c.redirect("/", 303);
}
