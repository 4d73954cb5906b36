"""Build small ICC v2 profiles in memory, so colour tests need no profile files.

Matrix/TRC RGB profiles from primaries, white point and transfer curve, and grey profiles from a gamma:
the same kind of profile cameras and phones embed (Display P3, Adobe RGB, ProPhoto).
"""

from __future__ import annotations

import struct

D50 = (0.9642, 1.0, 0.8249)
D65_XY = (0.3127, 0.3290)
D50_XY = (0.3457, 0.3585)
BRADFORD = ((0.8951, 0.2664, -0.1614), (-0.7502, 1.7135, 0.0367), (0.0389, -0.0685, 1.0296))


def _mat_mul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def _mat_vec(a, v):
    return [sum(a[i][k] * v[k] for k in range(3)) for i in range(3)]


def _inverse(m):
    (a, b, c), (d, e, f), (g, h, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return [
        [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
        [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
        [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
    ]


def _xyz(xy):
    x, y = xy
    return [x / y, 1.0, (1 - x - y) / y]


def _colorants(primaries, white_xy):
    """RGB->XYZ matrix columns, adapted to the D50 PCS with Bradford."""
    columns = [_xyz(p) for p in primaries]
    m = [[columns[j][i] for j in range(3)] for i in range(3)]
    scale = _mat_vec(_inverse(m), _xyz(white_xy))
    m = [[m[i][j] * scale[j] for j in range(3)] for i in range(3)]
    source_cone = _mat_vec(BRADFORD, _xyz(white_xy))
    d50_cone = _mat_vec(BRADFORD, list(D50))
    diag = [[d50_cone[i] / source_cone[i] if i == j else 0.0 for j in range(3)] for i in range(3)]
    adapt = _mat_mul(_inverse(BRADFORD), _mat_mul(diag, BRADFORD))
    m = _mat_mul(adapt, m)
    return [[m[i][j] for i in range(3)] for j in range(3)]


def _s15(value):
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz):
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(v) for v in xyz)


def _curve_tag(curve):
    if isinstance(curve, float):
        return b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", round(curve * 256))
    table = [round(curve(i / 1023) * 65535) for i in range(1024)]
    return b"curv" + b"\0" * 4 + struct.pack(">I", len(table)) + struct.pack(f">{len(table)}H", *table)


def _desc_tag(text):
    ascii_text = text.encode("ascii") + b"\0"
    return (
        b"desc"
        + b"\0" * 4
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + b"\0" * 8
        + b"\0" * 3
        + b"\0" * 67
    )


def _text_tag(text):
    return b"text" + b"\0" * 4 + text.encode("ascii") + b"\0"


def _profile(colour_space: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    entries, data = [], b""
    for signature, body in tags:
        padded = body + b"\0" * (-len(body) % 4)
        entries.append(struct.pack(">4sII", signature, offset + len(data), len(body)))
        data += padded
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntr"
        + colour_space
        + b"XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + b"".join(_s15(v) for v in D50)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + b"".join(entries) + data


def srgb_curve(v: float) -> float:
    """The sRGB transfer function (encoded -> linear)."""
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def rgb_profile(name: str, primaries, white_xy, curve) -> bytes:
    """A matrix/TRC RGB display profile."""
    red, green, blue = _colorants(primaries, white_xy)
    trc = _curve_tag(curve)
    return _profile(
        b"RGB ",
        [
            (b"desc", _desc_tag(name)),
            (b"wtpt", _xyz_tag(D50)),
            (b"rXYZ", _xyz_tag(red)),
            (b"gXYZ", _xyz_tag(green)),
            (b"bXYZ", _xyz_tag(blue)),
            (b"rTRC", trc),
            (b"gTRC", trc),
            (b"bTRC", trc),
            (b"cprt", _text_tag("No copyright, test profile")),
        ],
    )


def grey_profile(name: str, gamma: float) -> bytes:
    """A grey display profile with a pure gamma curve."""
    return _profile(
        b"GRAY",
        [
            (b"desc", _desc_tag(name)),
            (b"wtpt", _xyz_tag(D50)),
            (b"kTRC", _curve_tag(gamma)),
            (b"cprt", _text_tag("No copyright, test profile")),
        ],
    )


DISPLAY_P3 = rgb_profile(
    "Display P3 (test)", ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), D65_XY, srgb_curve
)
ADOBE_RGB = rgb_profile(
    "Adobe RGB (1998) (test)", ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), D65_XY, 563 / 256
)
PROPHOTO = rgb_profile(
    "ProPhoto RGB (test)", ((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001)), D50_XY, 1.8
)
GREY_GAMMA_18 = grey_profile("Grey gamma 1.8 (test)", 1.8)
