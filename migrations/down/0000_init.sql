-- Reverts 0000_init: drops its tables (and every vote in them).
DROP TABLE IF EXISTS `writer_state`;
--> statement-breakpoint
DROP TABLE IF EXISTS `votes`;
--> statement-breakpoint
DROP TABLE IF EXISTS `totals`;
