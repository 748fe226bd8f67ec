"""Styles made in the window: a template from a form, a preview frame drawn as renders draw
it, saved whole (or not at all) in the templates folder, and offered for new jobs."""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path

import pytest
import yaml
from PIL import Image
from pytestqt.qtbot import QtBot

from app import ops, queries
from app.ops.jobs import JobRequest
from app.paths import DEMO_SHEET
from app.pipeline.errors import RenderError
from app.pipeline.style_templates import (
    preview_png,
    save_template,
    settings_of,
    style_from,
)
from app.pipeline.styles import BUILTIN, pick_style
from app.services import Services
from app.sources.intake import SourceSpec
from app.ui.background import Background
from app.ui.style_editor import StyleEditor


def test_a_template_keeps_only_what_differs_and_renders_as_it_says(tmp_path: Path) -> None:
    settings = settings_of(BUILTIN["minimal"])
    settings["text"] = "#112233"
    settings["caption_box"] = "#fefefe"
    settings["caption_box_opacity"] = 0.8
    path = save_template(tmp_path, "night-science", "minimal", settings)
    assert yaml.safe_load(path.read_text()) == {
        "base": "minimal", "text": "#112233", "caption_box": "#fefefe", "caption_box_opacity": 0.8,
    }  # fmt: skip
    style = pick_style("night-science", tmp_path)
    assert style.text == (0x11, 0x22, 0x33) and style.caption_box == (254, 254, 254)
    frame = Image.open(io.BytesIO(preview_png(style)))
    assert frame.size == (640, 360)
    assert frame.getpixel((2, 2))[:3] == BUILTIN["minimal"].background[0]  # the background
    assert list(tmp_path.glob("*.part")) == []


@pytest.mark.parametrize(
    ("name", "change", "said"),
    [
        ("Night Science!", {}, "lower-case letters, digits and hyphens"),
        ("modern", {}, "is a built-in style"),
        ("fine", {"caption_box_opacity": 2}, "caption_box_opacity must be from 0 to 1"),
        ("fine", {"text": "#12345"}, "is not a colour like #1a2b3c"),
        ("fine", {"caption_position": "left"}, "caption_position must be one of"),
    ],
)
def test_a_wrong_style_is_refused_and_nothing_is_written(
    tmp_path: Path, name: str, change: dict[str, object], said: str
) -> None:
    settings = {**settings_of(BUILTIN["modern"]), **change}
    with pytest.raises(RenderError, match=said):
        save_template(tmp_path, name, "modern", settings)
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_an_unwritable_templates_folder_is_named_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "templates"
    blocker.write_text("a file where the folder should be")
    settings = settings_of(BUILTIN["modern"])
    with pytest.raises(RenderError, match=r"cannot be saved in .*templates .*writable") as caught:
        save_template(blocker, "night", "modern", settings)
    assert "\n" not in str(caught.value)
    assert blocker.read_text() == "a file where the folder should be"


def test_the_editor_previews_saves_and_new_jobs_can_use_it(
    qtbot: QtBot, workspace: Services
) -> None:
    background = Background()
    editor = StyleEditor(background, partial(ops.jobs.save_style, workspace))
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitUntil(lambda: editor.preview.pixmap() is not None
                    and not editor.preview.pixmap().isNull(), timeout=10_000)  # fmt: skip
    editor.base.setCurrentText("classic")
    assert editor.no_box.isChecked()  # classic has no caption box
    editor.colors["text"].set_color("#ff0000")
    editor.changed()
    editor.name.setText("Bad Name")
    editor.save()
    qtbot.waitUntil(lambda: "lower-case" in editor.error.text(), timeout=10_000)
    editor.name.setText("red-classic")
    editor.save()
    qtbot.waitUntil(lambda: editor.saved is not None, timeout=10_000)
    assert editor.saved == workspace.paths.templates_dir / "red-classic.yaml"
    assert style_from("classic", editor.settings()).text == (255, 0, 0)
    assert "red-classic" in queries.settings.style_names(workspace)
    made = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title="Red", style="red-classic")
    )
    assert queries.jobs.job(workspace, made.job_id)["style"] == "red-classic"
    background.shutdown()
