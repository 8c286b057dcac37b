import { z } from "@hono/zod-openapi";

export const Credentials = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email("Must be an email address").max(254)),
  password: z.string().min(10, "Must be at least 10 characters").max(256, "Must be at most 256 characters"),
});

export const Signup = Credentials.extend({ name: z.string().trim().min(1, "Is required").max(100) }).openapi("Signup");

export const Login = z.object({ email: z.string().max(254), password: z.string().max(256) }).openapi("Login");

export const PasswordResetRequest = z
  .object({ email: z.string().trim().max(254).openapi({ example: "ada@example.com" }) })
  .openapi("PasswordResetRequest");

export const PasswordResetConfirm = z
  .object({
    token: z.string().min(1, "Is required").max(200).openapi({ description: "The last part of the mailed link." }),
    password: Credentials.shape.password,
  })
  .openapi("PasswordResetConfirm");
