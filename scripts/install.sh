#!/usr/bin/env bash
# Installs diffuse into PREFIX/bin and the data it needs into PREFIX/share/diffuse: the CLIP
# tokenizers (models/clip-tokenizer, models/clip-tokenizer-sd2), the shipped model (models/emoji,
# without its training logs) and the studio's page. diffuse finds them there from any folder.
#
#   scripts/install.sh PREFIX            builds in release mode, then installs
#   DIFFUSE_BIN_DIR=DIR scripts/install.sh PREFIX   installs the binary already built in DIR
set -euo pipefail
if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: scripts/install.sh PREFIX   (e.g. /usr/local or ~/.local)" >&2
    exit 2
fi
prefix=$1
cd "$(dirname "$0")/.."
if [ -n "${DIFFUSE_BIN_DIR:-}" ]; then
    bin=$DIFFUSE_BIN_DIR
else
    swift build -c release --product diffuse
    bin=$(swift build -c release --show-bin-path)
fi
if [ ! -x "$bin/diffuse" ]; then
    echo "error: $bin/diffuse not found (build with swift build -c release)" >&2
    exit 1
fi
share="$prefix/share/diffuse"
mkdir -p "$prefix/bin" "$share/models"
# Each folder is copied beside its final name and renamed into place, so a failed copy leaves the old one.
place() {
    local source=$1 target=$2
    rm -rf "$target.installing"
    cp -R "$source" "$target.installing"
    rm -rf "$target"
    mv "$target.installing" "$target"
}
install -m 755 "$bin/diffuse" "$prefix/bin/diffuse.installing"
mv "$prefix/bin/diffuse.installing" "$prefix/bin/diffuse"
place models/clip-tokenizer "$share/models/clip-tokenizer"
place models/clip-tokenizer-sd2 "$share/models/clip-tokenizer-sd2"
place models/emoji "$share/models/emoji"
rm -rf "$share/models/emoji/training"
if [ -d "$bin/Diffuse_Server.resources" ]; then
    place "$bin/Diffuse_Server.resources" "$share/Diffuse_Server.resources"
else
    mkdir -p "$share/Diffuse_Server.resources"
    place Sources/Server/Static "$share/Diffuse_Server.resources/Static"
fi
echo "installed $prefix/bin/diffuse and its data in $share"
