"""Which Qt plugins the bundle keeps; shared by the hook overrides beside this file.

The standard PyInstaller hooks collect every plugin of a Qt module, and PyInstaller then
collects every library those plugins link: the virtual keyboard brings QtQuick and QML, the
GTK theme brings GTK. Filtering the plugins here, before that dependency analysis, keeps the
bundle small and its start fast.
"""

from __future__ import annotations

from pathlib import PurePath

# Plugin directory → the plugin files (stems, without lib prefix) kept; None keeps all.
KEPT: dict[str, frozenset[str] | None] = {
    # Windows, Linux X11/Wayland, macOS, and offscreen for the headless selftest and CI.
    "platforms": frozenset({"qwindows", "qxcb", "qwayland", "qoffscreen", "qminimal",
                            "qcocoa", "qdirect2d"}),
    # Dead keys and compose sequences (ž, ș, ą …) on Linux; not the virtual keyboard (QML).
    "platforminputcontexts": frozenset({"composeplatforminputcontextplugin",
                                        "ibusplatforminputcontextplugin"}),
    "platformthemes": frozenset({"qxdgdesktopportal"}),  # not GTK: it drags GTK in
    "imageformats": None,
    "iconengines": None,
    "styles": None,
    "xcbglintegrations": None,
    "accessiblebridge": None,
    "wayland-decoration-client": None,
    "wayland-shell-integration": None,
    "wayland-graphics-integration-client": None,
    # Dropped: egldeviceintegrations and generic (embedded devices), networkinformation and
    # tls (KIMdesk talks HTTP through httpx, not QtNetwork), networkaccess.
}


def keep(source: str) -> bool:
    """Whether a file collected from Qt's plugin folder goes into the bundle."""
    path = PurePath(source)
    if "plugins" not in path.parts[:-1]:
        return True
    kind = path.parent.name
    if path.parent.parent.name != "plugins":  # e.g. platforms/darwin: judged by its parent
        kind = path.parent.parent.name
    if kind not in KEPT:
        return False
    wanted = KEPT[kind]
    stem = path.name.split(".")[0].removeprefix("lib")
    return wanted is None or stem in wanted


def filtered(entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [entry for entry in entries if keep(entry[0])]
