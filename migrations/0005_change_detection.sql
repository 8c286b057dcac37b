ALTER TABLE `screenshots` ADD `compare_key` text;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `detection` text;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `ignore_boxes` text;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `comparison_status` text;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `baseline_id` text;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `comparison` text;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `changed` integer;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `diff_key` text;--> statement-breakpoint
ALTER TABLE `screenshots` ADD `compared_at` integer;--> statement-breakpoint
CREATE INDEX `screenshots_baseline` ON `screenshots` (`website_id`,`compare_key`,`id`);--> statement-breakpoint
CREATE INDEX `screenshots_changes` ON `screenshots` (`website_id`,`changed`,`id`);--> statement-breakpoint
CREATE INDEX `screenshots_comparison` ON `screenshots` (`comparison_status`,`compared_at`);--> statement-breakpoint
ALTER TABLE `websites` ADD `change_detection` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `websites` ADD `baseline_screenshot_id` text;--> statement-breakpoint
CREATE INDEX `websites_baseline` ON `websites` (`baseline_screenshot_id`);