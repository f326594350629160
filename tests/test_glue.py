"""companion.glue: myst-nb's glue when it is installed, a stand-in where it is not (Colab); and
the animations of the book as HTML that plays on the static site (nothing loaded from outside,
labelled buttons, a bounded size)."""

import base64
import html.parser
import importlib
import io
import re
import sys

import matplotlib
import pytest

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402
from matplotlib.layout_engine import PlaceHolderLayoutEngine  # noqa: E402
from PIL import Image  # noqa: E402

import companion.glue  # noqa: E402
from companion.glue import animation_html  # noqa: E402


def test_glue_is_myst_nbs_when_installed():
    import myst_nb

    assert companion.glue.glue is myst_nb.glue


def test_without_myst_nb_glue_shows_only_what_it_is_asked_to(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb now fails
    try:
        stand_in = importlib.reload(companion.glue).glue
        stand_in("hidden", 0.123, display=False)
        stand_in("shown", 0.456)
        assert capsys.readouterr().out.strip() == "0.456"
    finally:
        monkeypatch.undo()
        importlib.reload(companion.glue)


# --- animations --------------------------------------------------------------------------------


def small_animation(frames=3):
    """A line that rises frame by frame, laid out by tight_layout as the chapters do."""
    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
    plt.close(fig)
    line, = ax.plot([0, 1], [0, 0], "-o", color="black")
    ax.set(ylim=(0, frames), title="rising")
    fig.tight_layout()

    def draw(k):
        line.set_ydata([0, k])

    return fig, FuncAnimation(fig, draw, frames=frames)


class Elements(html.parser.HTMLParser):
    """The start tags of an HTML text, with their attributes, and each button's attributes and
    text."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.buttons, self._button = [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "button":
            self._button = (dict(attrs), [])

    def handle_data(self, data):
        if self._button is not None:
            self._button[1].append(data)

    def handle_endtag(self, tag):
        if tag == "button":
            self.buttons.append((self._button[0], "".join(self._button[1]).strip()))
            self._button = None

    def find(self, tag):
        return [attrs for name, attrs in self.tags if name == tag]


def frames_of(text):
    return [base64.b64decode(f) for f in
            re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]*)"', text)]


@pytest.fixture(scope="module")
def animation():
    _, anim = small_animation()
    return animation_html(anim, colors=16)


@pytest.fixture(scope="module")
def page(animation):
    return animation.data


def test_the_animation_loads_nothing_from_outside_the_page(page):
    assert not re.search(r"https?:|//[\w.-]+\.[a-z]{2,}/|url\(|@import", page, re.I)
    assert not Elements(page).find("link") and not Elements(page).find("iframe")
    sources = [a["src"] for tag in ("img", "script") for a in Elements(page).find(tag)
               if "src" in a]
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "function Animation" in page  # matplotlib's player is still there


def test_its_buttons_have_visible_labels_and_the_slider_a_name(page):
    elements = Elements(page)
    buttons = elements.buttons
    assert len(buttons) == 9
    labels = [text for _, text in buttons]
    assert all(labels) and len(set(labels)) == 9, labels
    assert {"Play", "Pause", "Next", "Previous"} <= set(labels)
    # the accessible name of a button is its text: no aria-label that would say otherwise
    assert not [a for a, _ in buttons if "aria-label" in a]
    assert all(a.get("type") == "button" for a, _ in buttons)
    sliders = [a for a in elements.find("input") if a.get("type") == "range"]
    assert len(sliders) == 1 and sliders[0]["aria-label"] == "Frame"
    assert "<i " not in page  # no icon left


def test_its_image_shows_the_last_frame_before_any_script_runs(page):
    images = Elements(page).find("img")
    assert len(images) == 1 and images[0]["alt"].startswith("An animation of 3 frames")
    frames = frames_of(page)
    assert len(frames) == 3
    assert base64.b64decode(images[0]["src"].removeprefix("data:image/png;base64,")) == frames[-1]


def test_its_frames_are_small_palette_pngs_that_differ(page):
    frames = frames_of(page)
    images = [Image.open(io.BytesIO(f)) for f in frames]
    assert all(i.format == "PNG" and i.mode == "P" for i in images)
    assert all(len(i.getcolors()) <= 16 for i in images)
    assert images[0].size[0] == 100 and 73 <= images[0].size[1] <= 75  # 2 x 1.5 in, 50 dpi
    assert len({f for f in frames}) == 3  # the line moves


def test_the_same_animation_gives_the_same_html_and_ids_that_match(page):
    _, again = small_animation()
    assert animation_html(again, colors=16).data == page
    ids = set(re.findall(r"anim([0-9a-f]{16})\b", page))
    assert len(ids) == 1
    (anim_id,) = ids
    assert f'id="_anim_img{anim_id}"' in page and f"anim{anim_id}.play_animation()" in page
    _, other = small_animation(frames=4)
    assert anim_id not in animation_html(other, colors=16).data


def test_the_player_fits_a_phone_and_plays_once(page):
    assert "374px" not in page and "width: 36px" not in page
    assert "max-width: 100%" in page
    checked = [a["value"] for a in Elements(page).find("input") if "checked" in a]
    assert checked == ["once"]


def test_a_figure_laid_out_by_tight_layout_keeps_its_layout_engine():
    fig, anim = small_animation()
    before = fig.get_layout_engine()
    assert isinstance(before, PlaceHolderLayoutEngine)
    animation_html(anim)
    assert fig.get_layout_engine() is before


def test_an_animation_larger_than_max_bytes_is_refused():
    _, anim = small_animation()
    with pytest.raises(ValueError, match=r"more than max_bytes = 1,000: use fewer frames"):
        animation_html(anim, max_bytes=1000)


def test_a_notebook_stores_the_last_frame_as_the_picture_beside_the_html(animation):
    from IPython.core.formatters import format_display_data

    data, _ = format_display_data(animation)
    assert data["text/html"] == animation.data
    assert data["image/png"] == frames_of(animation.data)[-1]


def test_glue_animation_describes_the_image_and_glues_the_html(animation, page, monkeypatch):
    glued = {}
    monkeypatch.setattr(companion.glue, "glue",
                        lambda name, value, display=True: glued.update({name: (value, display)}))
    companion.glue.glue_animation("anim_test", animation, alt='Rises: "0" < 3 & more')
    (value, display), = glued.values()
    assert list(glued) == ["anim_test"] and display is False
    (image,) = Elements(value.data).find("img")
    assert image["alt"] == 'Rises: "0" < 3 & more'  # escaped in the HTML, intact when read
    assert value.data.replace(image["alt"].replace("&", "&amp;").replace('"', "&quot;")
                              .replace("<", "&lt;"), "An animation of 3 frames") == page
    assert value._repr_png_() == frames_of(page)[-1]
    from IPython.display import HTML

    for not_one in ("<p>text</p>", HTML("<p>text</p>"), page):
        with pytest.raises(ValueError, match="not an animation"):
            companion.glue.glue_animation("anim_test", not_one, alt="x")
