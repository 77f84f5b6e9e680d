#!/bin/sh
# The Debian packages that some tests and renderers use, installed where missing (`make
# sysdeps`): Chromium (browser tests), Node.js + npm (glTF-validator and browser tests),
# espeak-ng (`talkinghead say`), Mesa EGL (the GL 3D renderer; a CPU renderer stands in).
#
# This never fails and never blocks `make demo` (which needs none of them) or `make test`
# (whose tests skip with the reason where a tool is absent):
# - only what is missing is installed, one package per apt-get call, so one package apt
#   refuses (e.g. npm, which conflicts with a Node.js from NodeSource) does not stop the rest;
# - what another source already provides is skipped: a `node` on the PATH that is not
#   Debian's nodejs brings its own npm, so apt is never asked for nodejs or npm then;
# - without root or apt-get it only reports what is missing;
# - it ends with one line per outcome (installed / skipped / failed / missing) and exit 0.
#
# SYSDEPS_LIBDIRS overrides the folders searched for the Mesa libraries (tests).

LIBDIRS=${SYSDEPS_LIBDIRS:-"/usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib"}

have() { command -v "$1" >/dev/null 2>&1; }
have_lib() {
    for d in $LIBDIRS; do
        [ -e "$d/$1" ] && return 0
    done
    return 1
}

missing=""
skipped=""
have chromium || have chromium-browser || missing="$missing chromium"
have espeak-ng || missing="$missing espeak-ng"
if have node; then
    node_version=$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null)
    case "$node_version" in
        "" | *nodesource* | *nsolid*) debian_node=no ;;
        *) debian_node=yes ;;
    esac
    if ! have npm; then
        if [ "$debian_node" = yes ]; then
            missing="$missing npm"
        else
            skipped="$skipped npm"
            echo "sysdeps: skipped npm: node ($(command -v node)) does not come from Debian's" \
                "nodejs, and apt's npm conflicts with it (install npm from the same source)"
        fi
    fi
else
    missing="$missing nodejs"
    have npm || missing="$missing npm"
fi
have_lib libEGL.so.1 || missing="$missing libegl1"
have_lib libEGL_mesa.so.0 || missing="$missing libegl-mesa0"
have_lib dri/swrast_dri.so || missing="$missing libgl1-mesa-dri"

if [ -z "$missing" ]; then
    echo "sysdeps: nothing to install${skipped:+ (skipped:$skipped)}"
    exit 0
fi
if [ "$(id -u 2>/dev/null)" != 0 ] || ! have apt-get; then
    echo "sysdeps: not installing (needs root and apt-get); missing:$missing" \
        "(the tests that need them skip with the reason)"
    exit 0
fi

if ! apt-get update -qq >/dev/null 2>&1; then
    echo "sysdeps: apt-get update failed; trying the packages one by one anyway"
fi
installed=""
failed=""
for p in $missing; do
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" \
        >/dev/null 2>&1; then
        installed="$installed $p"
    else
        failed="$failed $p"
    fi
done
[ -n "$installed" ] && echo "sysdeps: installed:$installed"
[ -n "$skipped" ] && echo "sysdeps: skipped:$skipped"
[ -n "$failed" ] && echo "sysdeps: failed:$failed (apt-get refused; the tests that need" \
    "them skip with the reason)"
exit 0
