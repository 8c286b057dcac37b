ALTER TABLE `schedules` ADD `gap_minutes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `schedules_account_gap` ON `schedules` (`account_id`,`gap_minutes`);