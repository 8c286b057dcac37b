CREATE TABLE `account_settings` (
	`id` integer PRIMARY KEY NOT NULL,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_channels` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`target` text NOT NULL,
	`events` text NOT NULL,
	`website_ids` text,
	`frequency` text DEFAULT 'instant' NOT NULL,
	`verified` integer DEFAULT true NOT NULL,
	`verify_token_hash` text,
	`unsubscribe_token` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`disabled_reason` text,
	`failing_since` integer,
	`digested_until` integer,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_channels_verify` ON `alert_channels` (`verify_token_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `alert_channels_unsubscribe` ON `alert_channels` (`unsubscribe_token`);--> statement-breakpoint
CREATE INDEX `alert_channels_created_by` ON `alert_channels` (`created_by`);--> statement-breakpoint
CREATE TABLE `alert_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`kind` text NOT NULL,
	`alert_id` text,
	`summary` text NOT NULL,
	`period_from` integer,
	`period_until` integer,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`duration_ms` integer,
	`next_attempt_at` integer,
	`claimed_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`channel_id`) REFERENCES `alert_channels`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`alert_id`) REFERENCES `alerts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `alert_deliveries_channel` ON `alert_deliveries` (`channel_id`,`id`);--> statement-breakpoint
CREATE INDEX `alert_deliveries_created` ON `alert_deliveries` (`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `alert_deliveries_once` ON `alert_deliveries` (`channel_id`,`alert_id`) WHERE alert_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `alert_deliveries_digest` ON `alert_deliveries` (`channel_id`,`period_until`) WHERE kind = 'digest';--> statement-breakpoint
CREATE TABLE `alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`website_id` text,
	`data` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alerts_created` ON `alerts` (`created_at`);--> statement-breakpoint
ALTER TABLE `screenshots` ADD `text_sha256` text;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `ignore_text` text;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `confirmed_by` text;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `confirms` text;--> statement-breakpoint
ALTER TABLE `websites` ADD `failing_since` integer;