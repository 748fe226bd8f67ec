"""Cadence: a desktop studio that turns a spreadsheet of video ideas into finished videos."""

__version__ = "0.1.0"
APP_NAME = "Cadence"
