# shellcheck shell=bash
# Sourced by scripts/run and scripts/test: a virtualenv (default .venv) with the project installed.
# Installs only when pyproject.toml changed since the last install, so repeated runs start at once.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"

find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

# ensure_venv [dev]: create the virtualenv if missing and install the project (with the dev extra).
ensure_venv() {
    local extra="${1:-}" python stamp digest
    if [ ! -x "$VENV/bin/python" ]; then
        python="$(find_python)"
        echo "==> creating a virtualenv in $VENV with $("$python" --version)"
        "$python" -m venv "$VENV"
    fi
    stamp="$VENV/.callcenter-installed"
    digest="$("$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()[:16])' "$ROOT/pyproject.toml")"
    if grep -qx "$digest-${extra:-base}" "$stamp" 2>/dev/null ||
        { [ -z "$extra" ] && grep -qx "$digest-dev" "$stamp" 2>/dev/null; }; then
        return 0
    fi
    echo "==> installing the call center${extra:+ with its $extra tools} into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT${extra:+[$extra]}"
    echo "$digest-${extra:-base}" >>"$stamp"
}
