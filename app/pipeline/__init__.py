"""Rendering: one idea in, a finished video and its sidecar files out.

One module per stage, each a function of (inputs, settings, progress) → files. Media
libraries (moviepy, ffmpeg, TTS engines, Pillow) are used only in this package.
"""
