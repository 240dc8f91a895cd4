#!/usr/bin/env bash
# Runs the Python smoke app (flavors/python/app.py) against the wheels in dist/python/ (bash flavors/python/build.sh)
# in a virtualenv, and writes its YAML to the folder given (default flavors/python/.build/out-python).
# The jsii Python runtime (`jsii` on PyPI) and `publication` must be installable: pip is pointed at the machine's
# package index settings plus dist/python/ (drop a jsii-*.whl and publication-*.whl there if PyPI is unreachable).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-flavors/python/.build/out-python}
VENV=flavors/python/.build/venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --no-deps dist/python/*.whl
"$VENV/bin/pip" install -q --find-links dist/python 'jsii>=1.140.0,<2.0.0' 'publication>=0.0.3' typeguard cattrs attrs python-dateutil typing-extensions importlib-resources
rm -rf "$OUT"
"$VENV/bin/python" flavors/python/app.py "$OUT"
ls "$OUT"
