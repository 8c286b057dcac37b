CREATE TABLE `one_time_values` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`kind` text NOT NULL,
	`subject` text,
	`value` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `one_time_values_expires` ON `one_time_values` (`expires_at`);--> statement-breakpoint
ALTER TABLE `webhooks` ADD `created_by` text;