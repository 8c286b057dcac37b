CREATE INDEX `runs_status` ON `runs` (`status`,`updated_at`);--> statement-breakpoint
CREATE INDEX `screenshots_status` ON `screenshots` (`status`,`updated_at`);