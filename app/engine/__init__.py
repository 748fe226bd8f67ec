"""The runtime: schedules and triggers (more of the engine lands with the scheduler)."""
