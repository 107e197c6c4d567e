CREATE TABLE `totals` (
	`option` text PRIMARY KEY NOT NULL,
	`count` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `votes` (
	`id` integer PRIMARY KEY NOT NULL,
	`option` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `writer_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`fence_token` integer DEFAULT 0 NOT NULL,
	`id_ceiling` integer DEFAULT 0 NOT NULL,
	`updated_at` integer DEFAULT 0 NOT NULL,
	CONSTRAINT "writer_state_single_row" CHECK("writer_state"."id" = 1)
);
