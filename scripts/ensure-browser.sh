#!/usr/bin/env bash
# Make sure the browser tests can run: Debian's Chromium at /usr/bin/chromium (Playwright
# drives it; its own browser download is not used) and the Noto CJK fonts, without which
# Chinese pages render as boxes. As root, install what is missing; otherwise say what to
# install and fail.
set -euo pipefail

have_font() {
    # Not `fc-list | grep -q`: grep stopping early kills fc-list with SIGPIPE, and under
    # pipefail that reads as "no font".
    local fonts
    fonts=$(fc-list 2>/dev/null || true)
    [[ $fonts == *"Noto Sans CJK"* ]]
}

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
have_font || missing+=(fonts-noto-cjk)
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "ensure-browser: using $(/usr/bin/chromium --version)"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-browser: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-browser: no apt-get here; install ${missing[*]} by hand" >&2
    exit 1
fi

echo "ensure-browser: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
    if apt-get -o DPkg::Lock::Timeout=300 update -q &&
        apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
            "${missing[@]}" fontconfig </dev/null; then
        break
    fi
    if [[ $attempt -eq 3 ]]; then
        echo "ensure-browser: apt-get failed three times" >&2
        exit 1
    fi
    echo "ensure-browser: apt-get failed; retrying in $((attempt * 10))s" >&2
    sleep $((attempt * 10))
done

if [[ ! -x /usr/bin/chromium ]] || ! have_font; then
    echo "ensure-browser: installed, but chromium or the CJK font is still missing" >&2
    exit 1
fi
echo "ensure-browser: $(/usr/bin/chromium --version)"
