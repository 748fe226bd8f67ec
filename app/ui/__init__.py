"""The desktop interface (PySide6). Nothing outside this package imports Qt."""
