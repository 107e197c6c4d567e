-- Fencing: a writer whose lease was taken over holds a lower token than the one the new
-- writer recorded here, so any transaction it tries aborts on this trigger and rolls back.
CREATE TRIGGER `writer_state_fence_monotonic`
BEFORE UPDATE OF `fence_token` ON `writer_state`
WHEN NEW.`fence_token` < OLD.`fence_token`
BEGIN
  SELECT RAISE(ABORT, 'fenced: a writer with a newer lease has committed; this writer must stop');
END;
--> statement-breakpoint
INSERT INTO `writer_state` (`id`, `fence_token`, `id_ceiling`, `updated_at`) VALUES (1, 0, 0, 0);
