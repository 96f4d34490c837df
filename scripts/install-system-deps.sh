#!/usr/bin/env bash
# Installs the Debian packages the app and its tests need beyond Python wheels: the shared
# libraries Qt's offscreen platform loads, a TrueType font family, PostgreSQL's server
# binaries (the county server's tests start a PostgreSQL of their own) and poppler's PDF tools.
# The PDF fonts themselves (DejaVu Sans, Noto Sans Arabic) ship in resources/fonts. Safe to run repeatedly:
# it installs only what is missing, and does nothing when not root (then it only reports).
set -euo pipefail

packages=(
    libdbus-1-3        # Qt Core/Gui
    libexpat1          # fontconfig inside Qt
    libglib2.0-0       # Qt's event dispatcher
    libfontconfig1     # font discovery for Qt
    libxkbcommon0      # Qt Gui keyboard handling
    libegl1            # Qt Gui OpenGL integration, loaded even offscreen
    fonts-dejavu-core  # widgets render text offscreen; DejaVu covers ł ś ș ț ă ğ ı
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
