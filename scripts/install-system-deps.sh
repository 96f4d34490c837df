#!/usr/bin/env bash
# Installs the Debian packages the app and its tests need beyond Python wheels: the shared
# libraries Qt's offscreen platform loads, those its xcb platform (a real window on X11, what
# `make run` shows) loads, a TrueType font family, Xvfb (the test that `kimdesk gui` opens a real
# window), PostgreSQL's server binaries (the county server's tests start a PostgreSQL of their
# own) and poppler's PDF tools. The PDF fonts themselves (DejaVu Sans, Noto Sans Arabic) ship in
# resources/fonts. Safe to run repeatedly: it installs only what is missing, and does nothing
# when not root (then it only reports).
#
# The xcb set is what `ldd` reports for PySide6's plugins/platforms/libqxcb.so,
# lib/libQt6XcbQpa.so.6 and plugins/xcbglintegrations/*.so (Qt 6.12), checked on Debian 12 by
# starting the app under Xvfb with QT_DEBUG_PLUGINS=1 (tests/ui/test_xcb_window.py). Qt 6 no
# longer links libxcb-xinerama0, so it is not needed.
set -euo pipefail

packages=(
    libdbus-1-3        # Qt Core/Gui
    libexpat1          # fontconfig inside Qt
    libglib2.0-0       # Qt's event dispatcher
    libfontconfig1     # font discovery for Qt
    libxkbcommon0      # Qt Gui keyboard handling
    libegl1            # Qt Gui OpenGL integration, loaded even offscreen
    fonts-dejavu-core  # widgets render text offscreen; DejaVu covers ł ś ș ț ă ğ ı
    # Qt's xcb platform plugin: without these `make run` shows no window on a fresh Debian.
    libx11-6 libx11-xcb1 libxcb1
    libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
    libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1
    libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0
    libxcb-glx0 libgl1 # the GLX integration plugin Qt loads for xcb windows
    xvfb               # a virtual X server: the test that the app opens a real xcb window
    postgresql         # server tests start their own PostgreSQL (initdb, pg_ctl, postgres user)
    poppler-utils      # PDF tests read Arabic script back in reading order (pdftotext, pdftoppm)
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages (install them as root): ${missing[*]}" >&2
    exit 0
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
