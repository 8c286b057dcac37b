-- D1 becomes the directory: each account's websites, captures, runs, schedules, webhooks and
-- idempotency keys move into the account's own Durable Object. The old tables are not dropped
-- here: each account's object copies its rows (idempotently) when it first starts, and the
-- minute cron drops the tables once every account has moved (src/tenant/legacy-move.ts).
-- `wake_at = 0` marks an account whose rows have not moved yet: overdue, so the cron wakes it.
ALTER TABLE `accounts` ADD `wake_at` integer;--> statement-breakpoint
CREATE INDEX `accounts_wake` ON `accounts` (`wake_at`);--> statement-breakpoint
UPDATE `accounts` SET `wake_at` = 0;
