"""The course's diagrams: drawn by tools/diagrams.py, committed as SVG, current in the notebooks."""

import base64
import xml.etree.ElementTree as ET

import pytest

from tools import diagrams


@pytest.mark.parametrize("lang", diagrams.LANGUAGES)
@pytest.mark.parametrize("name", sorted(diagrams.FIGURES_BY_NAME))
def test_every_figure_is_well_formed_svg_with_text_in_its_language(name, lang):
    svg = diagrams.render(name, lang)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and float(root.get("width")) > 0
    texts = [t.text for t in root.iter() if t.tag.endswith("text") and t.text]
    assert len(texts) >= 5
    has_chinese = any("\u4e00" <= ch <= "\u9fff" for text in texts for ch in text)
    assert has_chinese == (lang == "zh"), "the Chinese figure has Chinese labels, the English one none"


def test_figure_files_and_notebook_images_are_current():
    stale = diagrams.sync(check=True)
    assert not stale, "out of date, run python tools/diagrams.py:\n" + "\n".join(stale)


def test_a_marked_image_is_refreshed_with_the_current_drawing():
    text = "Intro.\n<!-- figure: pipeline -->\n![The pipeline](old.svg)\nAfter."
    new = diagrams.refresh_markdown(text)
    assert diagrams.markers_in(new) == ["pipeline"]
    src = new.split("](", 1)[1].split(")", 1)[0]
    assert src.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(src.split(",", 1)[1]).decode("utf-8") == diagrams.render("pipeline")
    assert diagrams.refresh_markdown(new) == new


def test_labels_must_exist_in_every_language():
    with pytest.raises(ValueError, match="missing in some language"):
        diagrams._t({"en": {"a": "A", "b": "B"}, "zh": {"a": "甲"}}, "en")
    with pytest.raises(ValueError, match="unknown figure"):
        diagrams.render("nope")


def test_the_chinese_set_is_current_and_asks_for_a_cjk_font():
    """docs/figures/zh/ holds every figure drawn in Chinese (the Chinese notebooks embed these drawings)."""
    for name in diagrams.FIGURES_BY_NAME:
        path = diagrams.figure_path(name, "zh")
        assert path.parent.name == "zh" and path.read_text(encoding="utf-8") == diagrams.render(name, "zh"), (
            f"{path} is out of date: run python tools/diagrams.py")
        font = ET.fromstring(diagrams.render(name, "zh")).get("font-family")
        assert "Noto Sans CJK SC" in font and "Microsoft YaHei" in font and font.endswith("sans-serif")
