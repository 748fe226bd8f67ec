"""The main window's views: dashboard, jobs, calendar, monitor, settings."""
