"""Charts drawn with Pillow alone (no matplotlib): a loss plot and a scatter plot of 2-D samples.

Everything is drawn at ``SUPERSAMPLE`` times the final size and shrunk with a Lanczos filter at the
end, which is how lines and dots get smooth edges without an anti-aliasing renderer. Axis ticks are
placed at "nice numbers" (1, 2 or 5 times a power of ten; P. S. Heckbert, "Nice numbers for graph
labels", Graphics Gems, 1990). ``minigan.io`` saves these pictures atomically.
"""
import math

import numpy as np

SUPERSAMPLE = 3
# The first colours of matplotlib's "tab10" cycle, so the charts look familiar.
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]
INK = (40, 40, 40)
GRID = (226, 226, 226)
BACKGROUND = (255, 255, 255)


def pillow():
    """PIL's Image, ImageDraw and ImageFont modules, or an ImportError that says what to install."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ImportError("drawing pictures needs Pillow: pip install pillow (or pip install 'minigan[cli]')") from None
    return Image, ImageDraw, ImageFont


def load_font(size):
    """Pillow's built-in scalable font (Pillow >= 10.1), else its small fixed bitmap font."""
    _, _, ImageFont = pillow()
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def _nice_number(x, round_to_nearest):
    exponent = math.floor(math.log10(x))
    fraction = x / 10.0 ** exponent
    if round_to_nearest:
        nice = 1 if fraction < 1.5 else 2 if fraction < 3 else 5 if fraction < 7 else 10
    else:
        nice = 1 if fraction <= 1 else 2 if fraction <= 2 else 5 if fraction <= 5 else 10
    return nice * 10.0 ** exponent


def nice_ticks(lo, hi, count=6):
    """Tick values covering [lo, hi] at a nice step, and the step (Heckbert's loose labelling)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"nice_ticks: limits must be finite, got {lo}, {hi}")
    if hi - lo < 1e-12 * max(1.0, abs(lo), abs(hi)):
        lo, hi = lo - 0.5 * max(1.0, abs(lo)), hi + 0.5 * max(1.0, abs(hi))
    step = _nice_number(_nice_number(hi - lo, False) / (count - 1), True)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [i * step for i in range(first, last + 1)], step


def _tick_label(value, step):
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text


class _Chart:
    """A white picture with one plot area, its axes, ticks, grid, labels, title and legend."""

    def __init__(self, size, xlim, ylim, xticks, yticks, title="", xlabel="", ylabel="",
                 margins=(72, 20, 40, 52)):
        Image, ImageDraw, _ = pillow()
        self.Image, self.ImageDraw = Image, ImageDraw
        s = SUPERSAMPLE
        self.size = size
        self.image = Image.new("RGB", (size[0] * s, size[1] * s), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        left, right, top, bottom = (m * s for m in margins)
        self.box = (left, top, size[0] * s - right, size[1] * s - bottom)
        self.xlim, self.ylim = xlim, ylim
        self.font = load_font(13 * s)
        self.small = load_font(12 * s)
        self.title_font = load_font(15 * s)
        self._axes(xticks, yticks, title, xlabel, ylabel)
        # Data are drawn on a transparent layer the size of the plot area, so Pillow clips them to it.
        self.layer = Image.new("RGBA", (self.box[2] - self.box[0], self.box[3] - self.box[1]), (0, 0, 0, 0))
        self.layer_draw = ImageDraw.Draw(self.layer)

    # data coordinates -> pixel coordinates on the layer
    def px(self, x, y):
        (x0, x1), (y0, y1) = self.xlim, self.ylim
        width, height = self.layer.size
        return (np.asarray(x, np.float64) - x0) / (x1 - x0) * width, (y1 - np.asarray(y, np.float64)) / (y1 - y0) * height

    def _text(self, xy, text, font, anchor, fill=INK):
        self.draw.text(xy, text, font=font, fill=fill, anchor=anchor)

    def _axes(self, xticks, yticks, title, xlabel, ylabel):
        s = SUPERSAMPLE
        left, top, right, bottom = self.box
        (x0, x1), (y0, y1) = self.xlim, self.ylim
        xstep = xticks[1] - xticks[0] if len(xticks) > 1 else 1.0
        ystep = yticks[1] - yticks[0] if len(yticks) > 1 else 1.0
        for value in xticks:
            if x0 - 1e-9 * abs(xstep) <= value <= x1 + 1e-9 * abs(xstep):
                x = left + (value - x0) / (x1 - x0) * (right - left)
                self.draw.line([(x, top), (x, bottom)], fill=GRID, width=s)
                self.draw.line([(x, bottom), (x, bottom + 5 * s)], fill=INK, width=s)
                self._text((x, bottom + 8 * s), _tick_label(value, xstep), self.small, "mt")
        for value in yticks:
            if y0 - 1e-9 * abs(ystep) <= value <= y1 + 1e-9 * abs(ystep):
                y = bottom - (value - y0) / (y1 - y0) * (bottom - top)
                self.draw.line([(left, y), (right, y)], fill=GRID, width=s)
                self.draw.line([(left - 5 * s, y), (left, y)], fill=INK, width=s)
                self._text((left - 8 * s, y), _tick_label(value, ystep), self.small, "rm")
        self.draw.rectangle([left, top, right, bottom], outline=INK, width=s)
        if title:
            self._text(((left + right) / 2, top - 12 * s), title, self.title_font, "ms")
        if xlabel:
            self._text(((left + right) / 2, self.image.height - 8 * s), xlabel, self.font, "md")
        if ylabel:
            label = self.Image.new("RGBA", (int(self.font.getlength(ylabel)) + 4 * s, 20 * s), (0, 0, 0, 0))
            self.ImageDraw.Draw(label).text((2 * s, 10 * s), ylabel, font=self.font, fill=INK, anchor="lm")
            label = label.rotate(90, expand=True)
            self.image.paste(label, (6 * s, int((top + bottom) / 2 - label.height / 2)), label)

    def polyline(self, x, y, color, width):
        """A line through finite points; non-finite values break it into pieces."""
        px, py = self.px(x, y)
        finite = np.isfinite(px) & np.isfinite(py)
        # Far-off points are pulled in so Pillow never sees huge coordinates; the clip hides them.
        px, py = np.clip(px, -1e5, 1e5), np.clip(py, -1e5, 1e5)
        breaks = np.flatnonzero(~finite)
        start = 0
        for end in list(breaks) + [len(px)]:
            if end - start >= 2:
                self.layer_draw.line(list(zip(px[start:end], py[start:end])), fill=color, width=width,
                                     joint="curve")
            start = end + 1

    def dots(self, x, y, color, radius):
        px, py = self.px(x, y)
        for cx, cy in zip(px, py):
            if np.isfinite(cx) and np.isfinite(cy):
                self.layer_draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=color)

    def _legend_box(self, entries, corner):
        """(x, y, width, height) of the legend in the picture, at ``corner`` of the plot area."""
        s = SUPERSAMPLE
        left, top, right, bottom = self.box
        width = max(int(self.font.getlength(label)) for label, _, _ in entries) + 44 * s
        height = 20 * s * len(entries) + 8 * s
        x = right - width - 10 * s if "right" in corner else left + 10 * s
        y = top + 10 * s if "upper" in corner else bottom - height - 10 * s
        return x, y, width, height

    def quietest_corner(self, entries, x, y):
        """The corner where the legend would hide the fewest of the points (x, y), in data units; the
        upper right on a tie (the usual place, so charts with room there do not move it)."""
        px, py = self.px(x, y)
        px, py = px + self.box[0], py + self.box[1]  # plot-area pixels to picture pixels, as the legend's

        def hidden(corner):
            bx, by, width, height = self._legend_box(entries, corner)
            return int(np.sum((px >= bx) & (px <= bx + width) & (py >= by) & (py <= by + height)))

        return min(("upper right", "upper left", "lower right", "lower left"), key=hidden)

    def legend(self, entries, corner="upper right"):
        """A boxed legend inside the plot area: entries are (label, colour, "line" or "dot" or "ring")."""
        s = SUPERSAMPLE
        row = 20 * s
        x, y, width, height = self._legend_box(entries, corner)
        self.draw.rectangle([x, y, x + width, y + height], fill=BACKGROUND, outline=(190, 190, 190), width=s)
        for i, (label, color, mark) in enumerate(entries):
            cy = y + 4 * s + row * i + row / 2
            if mark == "line":
                self.draw.line([(x + 8 * s, cy), (x + 30 * s, cy)], fill=color, width=3 * s)
            elif mark == "dot":
                self.draw.ellipse([x + 15 * s, cy - 3 * s, x + 21 * s, cy + 3 * s], fill=color)
            else:
                self.draw.ellipse([x + 13 * s, cy - 5 * s, x + 23 * s, cy + 5 * s], outline=color, width=2 * s)
            self._text((x + 36 * s, cy), label, self.font, "lm")

    def finish(self):
        """Composite the data layer into the plot area, redraw the frame over it, shrink to size."""
        left, top, right, bottom = self.box
        self.image.paste(self.layer, (left, top), self.layer)
        self.draw.rectangle([left, top, right, bottom], outline=INK, width=SUPERSAMPLE)
        return self.image.resize(self.size, self.Image.LANCZOS)


def smooth(values, window):
    """Centred moving average over ``window`` points that ignores non-finite values."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values
    finite = np.isfinite(values)
    kernel = np.ones(int(window))
    total = np.convolve(np.where(finite, values, 0.0), kernel, mode="same")
    count = np.convolve(finite.astype(np.float64), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def draw_losses(steps, series, title="Training losses", xlabel="iteration", ylabel="loss", size=(800, 450)):
    """A line chart of several series against ``steps``: each raw (thin, pale) and smoothed (bold).

    ``series`` maps a legend label to values (one per step). The y range leaves out the most extreme
    1% of raw values at each end (GAN losses spike) while always showing the smoothed curves.
    """
    steps = np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1:
        raise ValueError(f"loss plot: steps must be a 1-D sequence, got shape {steps.shape}")
    columns = {}
    for label, values in series.items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != steps.shape:
            raise ValueError(f"loss plot: series {label!r} has shape {values.shape}, steps have {steps.shape}")
        columns[label] = values
    window = max(1, len(steps) // 40)
    smoothed = {label: smooth(v, window) for label, v in columns.items()}
    raw = np.concatenate([v[np.isfinite(v)] for v in columns.values()] + [np.zeros(0)])
    smooth_all = np.concatenate([v[np.isfinite(v)] for v in smoothed.values()] + [np.zeros(0)])
    if raw.size == 0:
        lo, hi = 0.0, 1.0
    else:
        cut = 1.0 if raw.size >= 100 else 0.0
        lo = min(np.percentile(raw, cut), smooth_all.min())
        hi = max(np.percentile(raw, 100 - cut), smooth_all.max())
    yticks, _ = nice_ticks(float(lo), float(hi))
    x0, x1 = (float(steps.min()), float(steps.max())) if len(steps) else (0.0, 1.0)
    if x1 <= x0:
        x0, x1 = x0 - 1.0, x1 + 1.0
    xticks, _ = nice_ticks(x0, x1, count=7)
    chart = _Chart(size, (x0, x1), (yticks[0], yticks[-1]), xticks, yticks, title, xlabel, ylabel)
    s = SUPERSAMPLE
    entries = []
    for i, label in enumerate(columns):
        color = PALETTE[i % len(PALETTE)]
        pale = tuple(int(c + 0.6 * (255 - c)) for c in color)
        if window > 1:
            chart.polyline(steps, columns[label], pale + (255,), s)
        entries.append((label, color, "line"))
    for i, label in enumerate(columns):
        chart.polyline(steps, smoothed[label], PALETTE[i % len(PALETTE)] + (255,), 2 * s)
    every = np.concatenate([v for v in columns.values()] + [np.zeros(0)])
    chart.legend(entries, chart.quietest_corner(entries, np.tile(steps, len(columns)), every))
    return chart.finish()


def draw_points(points, modes=None, std=None, title="", size=(560, 560), limits=None, mode_labels=None):
    """A scatter plot of 2-D ``points`` with the real ``modes`` ringed at 3 ``std`` (the high-quality zone).

    ``limits`` (lo, hi) fixes both axes; by default they frame the modes with a margin, or the points.
    ``mode_labels`` (one string per mode, e.g. its count of high-quality samples) are written beside
    the rings: hundreds of samples inside one small ring look like a single dot.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"scatter plot: points must have shape (N, 2), got {points.shape}")
    if limits is None:
        reference = np.asarray(modes, dtype=np.float64) if modes is not None else points[np.isfinite(points).all(1)]
        if reference.size == 0:
            reference = np.zeros((1, 2))
        lo, hi = float(reference.min()), float(reference.max())
        margin = max(0.25 * (hi - lo), 1.0)
        limits = (lo - margin, hi + margin)
    ticks, _ = nice_ticks(*limits)
    chart = _Chart(size, limits, limits, ticks, ticks, title, "x", "y", margins=(56, 20, 40, 48))
    s = SUPERSAMPLE
    chart.dots(points[:, 0], points[:, 1], PALETTE[0] + (110,), 1.6 * s)
    entries = [(f"generated ({len(points)})", PALETTE[0], "dot")]
    if modes is not None:
        # Rings go over the samples, so a mode stays marked however many samples sit on it.
        modes = np.asarray(modes, dtype=np.float64)
        mx, my = chart.px(modes[:, 0], modes[:, 1])
        scale = chart.layer.size[0] / (limits[1] - limits[0])
        radius = max(3.0 * (std or 0.0) * scale, 4.0 * s)
        for cx, cy in zip(mx, my):
            chart.layer_draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius],
                                     outline=PALETTE[3] + (255,), width=int(1.5 * s))
        if mode_labels is not None:
            if len(mode_labels) != len(modes):
                raise ValueError(f"scatter plot: {len(mode_labels)} mode_labels for {len(modes)} modes")
            # Outward from the modes' centre, so a label never covers its ring's samples.
            centre = np.array([mx.mean(), my.mean()])
            for cx, cy, label in zip(mx, my, mode_labels):
                away = np.array([cx, cy]) - centre
                away = away / (np.linalg.norm(away) or 1.0)
                tx, ty = np.array([cx, cy]) + away * (radius + 14 * s)
                chart.layer_draw.text((tx, ty), str(label), font=chart.small, fill=PALETTE[3] + (255,), anchor="mm")
        entries.append(("real modes" + (" (3 std)" if std else ""), PALETTE[3], "ring"))
    chart.legend(entries)
    return chart.finish()
