"""``glue``: store a computed value for the book's prose, wherever the notebook runs.

The website is built with myst-nb, whose ``glue(name, value, display=False)`` stores a value that
the text then shows with ``{glue:text}`name```. Colab and a bare Jupyter have no myst-nb: there
this stand-in shows the value only when ``display=True``, as myst-nb would in the notebook.

``animation_html`` and ``glue_animation`` do the same bookkeeping for a matplotlib animation: its
frames and player as one piece of HTML that plays on the static website, where the page shows it
with ``{glue:figure}`` and a caption, and in Jupyter and Colab.
"""

import base64
import hashlib
import io
import re
import tempfile
from pathlib import Path

try:
    from myst_nb import glue
except ImportError:
    from IPython.display import display as _display

    def glue(name, variable, display=True):
        """Show ``variable`` if ``display``; ``name`` is what the book's text refers to."""
        if display:
            _display(variable)

__all__ = ["glue", "animation_html", "glue_animation"]

# matplotlib's player (``Animation.to_jshtml``) draws its buttons with icons of the Font Awesome
# stylesheet, which it links from a CDN. The site loads nothing from outside, so the buttons get
# text instead: the method each one calls -> its label (also its accessible name).
BUTTONS = {"slower": "Slower", "first_frame": "First", "previous_frame": "Previous",
           "reverse_animation": "Reverse", "pause_animation": "Pause",
           "play_animation": "Play", "next_frame": "Next", "last_frame": "Last",
           "faster": "Faster"}
# Replaces matplotlib's fixed sizes (a 374 px slider, 36 px icon buttons): the player fits a
# phone's screen, and its buttons wrap.
STYLE = """<style>
.animation { display: inline-block; max-width: 100%; text-align: center; }
.animation img { max-width: 100%; height: auto; }
.animation input[type=range].anim-slider { width: 100%; max-width: 30rem; }
.animation .anim-buttons { display: flex; flex-wrap: wrap; justify-content: center;
                           gap: 0.25rem; margin: 0.5rem 0; }
.animation .anim-buttons button { padding: 0.15rem 0.5rem; cursor: pointer; }
.animation .anim-state label { margin-right: 0.5rem; }
.animation .anim-state input { margin: 0 0.2rem 0 0; vertical-align: middle; }
</style>"""
FRAME = re.compile(r'(frames\[\d+\] = "data:image/png;base64,)([^"]*)"')
BUTTON = re.compile(r'<button title="(?P<title>[^"]*)" aria-label="[^"]*" '
                    r'onclick="(?P<call>anim\w+\.(?P<method>\w+)\(\))">\s*<i class="[^"]*"></i>'
                    r'\s*</button>')


def _palette_png(png, colors):
    """The PNG image ``png`` (bytes) with at most ``colors`` colours: several times smaller for
    plots, which have few colours; the same picture to the eye."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.quantize(colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="png")
    return out.getvalue()


def _writer():
    """matplotlib's HTML writer, drawing each frame once: a figure laid out by
    ``fig.tight_layout()`` keeps a placeholder layout engine, for which ``savefig`` lays the
    figure out again before every frame (its text costs most of the time)."""
    from matplotlib.animation import HTMLWriter
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    class Writer(HTMLWriter):
        def setup(self, fig, outfile, dpi=None, frame_dir=None):
            super().setup(fig, outfile, dpi, frame_dir)
            self.layout = fig.get_layout_engine()
            if isinstance(self.layout, PlaceHolderLayoutEngine):
                fig.set_layout_engine(None)  # the layout is done: keep it

        def finish(self):
            super().finish()
            if isinstance(self.layout, PlaceHolderLayoutEngine):
                self.fig.set_layout_engine(self.layout)

    return Writer


def _animation(html, last_frame):
    """An IPython ``HTML`` object that also offers ``last_frame`` (PNG bytes) as its picture: a
    notebook stores both, Jupyter and the website show the HTML, and viewers that do not run
    scripts (and the reader edition's checks) find the image."""
    from IPython.display import HTML

    class Animation(HTML):
        def _repr_png_(self):
            return last_frame

    return Animation(html)


def animation_html(anim, fps=4, colors=64, max_bytes=1_000_000):
    """The matplotlib animation ``anim`` as one self-contained piece of HTML, an IPython ``HTML``
    object that plays in Jupyter, in Colab and on the website; its picture (``_repr_png_``) is
    the last frame.

    It is matplotlib's player, as ``anim.to_jshtml(fps, default_mode="once")`` makes it, changed
    so that it loads nothing from outside the page: no icon font, text on its buttons. Its slider
    is named for screen readers; it fits a phone's screen; its frames are PNG images of at most
    ``colors`` colours; its ids are derived from the frames, so that the same animation gives
    the same HTML; and its image shows the last frame before the script has run (where scripts
    do not run at all, the reader still sees the result). ValueError if it is larger than
    ``max_bytes``.
    """
    with tempfile.TemporaryDirectory() as folder:  # what anim.to_jshtml() does, with _Writer
        path = Path(folder, "animation.html")
        anim.save(str(path), writer=_writer()(fps=fps, embed_frames=True, default_mode="once"))
        html = path.read_text()
    frames = []

    def palette(match):
        png = base64.b64decode(match.group(2).replace("\\\n", ""))
        frames.append(base64.b64encode(_palette_png(png, colors)).decode("ascii"))
        return f'{match.group(1)}{frames[-1]}"'

    html = FRAME.sub(palette, html)
    if not frames:
        raise ValueError("no PNG frames found in the animation's HTML")
    old_id = re.search(r'id="_anim_img(\w+)"', html).group(1)
    new_id = hashlib.sha1("".join(frames).encode()).hexdigest()[:16]
    html = html.replace(old_id, new_id)
    html = re.sub(r"<link [^>]*>", "", html)  # the icon font's stylesheet
    html = re.sub(r"<style>.*?</style>", lambda _: STYLE, html, count=1, flags=re.S)
    html = BUTTON.sub(lambda m: f'<button type="button" title="{m["title"]}" '
                                f'onclick="{m["call"]}">{BUTTONS[m["method"]]}</button>', html)
    html = html.replace('class="anim-slider"', 'class="anim-slider" aria-label="Frame"', 1)
    html = html.replace(f'<img id="_anim_img{new_id}">',
                        f'<img id="_anim_img{new_id}" alt="An animation of {len(frames)} '
                        f'frames" src="data:image/png;base64,{frames[-1]}">', 1)
    size = len(html.encode())
    if size > max_bytes:
        raise ValueError(f"the animation takes {size:,} bytes, more than max_bytes = "
                         f"{max_bytes:,}: use fewer frames, a smaller figure or a lower dpi")
    return _animation(html, base64.b64decode(frames[-1]))


def glue_animation(name, html, alt):
    """Glue the animation ``html`` (from ``animation_html``) as ``name``, for ``{glue:figure}``,
    with ``alt`` as the text alternative of its image (what it shows, for those who cannot see
    it)."""
    escaped = alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    text, n = re.subn(r'(<img id="_anim_img\w+" alt=")[^"]*"', lambda m: f'{m[1]}{escaped}"',
                      getattr(html, "data", ""), count=1)
    if n != 1 or not hasattr(html, "_repr_png_"):
        raise ValueError("not an animation from animation_html: no image to describe")
    glue(name, _animation(text, html._repr_png_()), display=False)
