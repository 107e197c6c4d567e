-- Reverts 0001_writer_fence_trigger: the fencing trigger and the writer_state row it seeded.
DROP TRIGGER IF EXISTS `writer_state_fence_monotonic`;
--> statement-breakpoint
DELETE FROM `writer_state` WHERE `id` = 1;
