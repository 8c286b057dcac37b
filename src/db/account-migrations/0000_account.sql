CREATE TABLE `idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`fingerprint` text NOT NULL,
	`state` text NOT NULL,
	`response_status` integer,
	`response_body` text,
	`response_headers` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idempotency_expires` ON `idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`scenario_id` text NOT NULL,
	`website_id` text NOT NULL,
	`schedule_id` text,
	`trigger` text NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`steps` text DEFAULT '[]' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`duration_ms` integer,
	FOREIGN KEY (`scenario_id`) REFERENCES `scenarios`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`schedule_id`) REFERENCES `schedules`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `runs_scenario` ON `runs` (`scenario_id`,`id`);--> statement-breakpoint
CREATE INDEX `runs_created` ON `runs` (`created_at`);--> statement-breakpoint
CREATE INDEX `runs_status` ON `runs` (`status`,`updated_at`);--> statement-breakpoint
CREATE TABLE `scenarios` (
	`id` text PRIMARY KEY NOT NULL,
	`website_id` text NOT NULL,
	`name` text NOT NULL,
	`capture` text,
	`timeout_ms` integer DEFAULT 120000 NOT NULL,
	`steps` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`website_id`) REFERENCES `websites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `scenarios_website` ON `scenarios` (`website_id`);--> statement-breakpoint
CREATE TABLE `schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`website_id` text,
	`scenario_id` text,
	`cron` text,
	`interval_minutes` integer,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`gap_minutes` integer DEFAULT 0 NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`paused_reason` text,
	`next_run_at` integer,
	`last_run_at` integer,
	`last_status` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`website_id`) REFERENCES `websites`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`scenario_id`) REFERENCES `scenarios`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "schedules_one_target" CHECK((website_id IS NULL) <> (scenario_id IS NULL)),
	CONSTRAINT "schedules_one_timing" CHECK((cron IS NULL) <> (interval_minutes IS NULL))
);
--> statement-breakpoint
CREATE INDEX `schedules_due` ON `schedules` (`enabled`,`next_run_at`);--> statement-breakpoint
CREATE TABLE `screenshots` (
	`id` text PRIMARY KEY NOT NULL,
	`website_id` text NOT NULL,
	`schedule_id` text,
	`run_id` text,
	`name` text,
	`step_index` integer,
	`source` text NOT NULL,
	`status` text NOT NULL,
	`url` text NOT NULL,
	`options` text NOT NULL,
	`error` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`r2_key` text,
	`thumb_key` text,
	`format` text,
	`width` integer,
	`height` integer,
	`bytes` integer,
	`sha256` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`captured_at` integer,
	`compare_key` text,
	`detection` text,
	`ignore_boxes` text,
	`comparison_status` text,
	`baseline_id` text,
	`comparison` text,
	`changed` integer,
	`diff_key` text,
	`compared_at` integer,
	FOREIGN KEY (`website_id`) REFERENCES `websites`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`schedule_id`) REFERENCES `schedules`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `screenshots_baseline` ON `screenshots` (`website_id`,`compare_key`,`id`);--> statement-breakpoint
CREATE INDEX `screenshots_changes` ON `screenshots` (`website_id`,`changed`,`id`);--> statement-breakpoint
CREATE INDEX `screenshots_comparison` ON `screenshots` (`comparison_status`,`compared_at`);--> statement-breakpoint
CREATE INDEX `screenshots_website` ON `screenshots` (`website_id`,`id`);--> statement-breakpoint
CREATE INDEX `screenshots_run` ON `screenshots` (`run_id`);--> statement-breakpoint
CREATE INDEX `screenshots_created` ON `screenshots` (`created_at`);--> statement-breakpoint
CREATE INDEX `screenshots_status` ON `screenshots` (`status`,`updated_at`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`webhook_id` text NOT NULL,
	`event_id` text NOT NULL,
	`type` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`duration_ms` integer,
	`next_attempt_at` integer,
	`claimed_at` integer,
	`redelivery_of` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`event_id`) REFERENCES `webhook_events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_webhook` ON `webhook_deliveries` (`webhook_id`,`id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_event` ON `webhook_deliveries` (`event_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_once` ON `webhook_deliveries` (`webhook_id`,`event_id`) WHERE redelivery_of IS NULL;--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_events_created` ON `webhook_events` (`created_at`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`description` text,
	`enabled` integer DEFAULT true NOT NULL,
	`disabled_reason` text,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_secret_until` integer,
	`failing_since` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `websites` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`url` text NOT NULL,
	`capture` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`last_capture_at` integer,
	`change_detection` text DEFAULT '{}' NOT NULL,
	`baseline_screenshot_id` text
);
--> statement-breakpoint
CREATE INDEX `websites_baseline` ON `websites` (`baseline_screenshot_id`);