#!/usr/bin/env bash
# Python target of cdk-model-rollout: jsii-pacmak generates the Python package (and those of the jsii libraries the
# smoke app needs: constructs, cdk8s, cdk8s-plus-33) and the system's setuptools + wheel (Debian's python3-setuptools,
# python3-wheel: PyPI is not reachable here, and pacmak's own wheel build pins setuptools~=75.3.2 and build~=1.5.0,
# which the local package mirror does not have) build the wheels into dist/python/.
# Usage: bash flavors/python/build.sh   (from the repository root; ~30 s with a warm jsii compile)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=flavors/python/.build
DIST=dist/python
PY=/usr/bin/python3   # Debian's python3, whose setuptools and wheel are the Debian packages
"$PY" -c 'import setuptools, wheel' 2>/dev/null || { echo "flavors/python: needs Debian's python3-setuptools and python3-wheel (apt-get install -y python3-setuptools python3-wheel)" >&2; exit 1; }

# the package's assembly, with its python target (package.json jsii.targets.python, set in .projenrc.ts)
npx projen bundle >/dev/null
npx jsii --silence-warnings=reserved-word
node projenrc/lazy-submodules.js lib/index.js
rm -rf "$OUT/pacmak" "$DIST" && mkdir -p "$OUT/pacmak" "$DIST"

# generated sources: this package, then the jsii libraries from their assemblies in node_modules
npx jsii-pacmak --code-only --targets python -o "$OUT/pacmak/cdk-model-rollout" .
for dep in constructs cdk8s cdk8s-plus-33; do
  npx jsii-pacmak --code-only --targets python -o "$OUT/pacmak/$dep" "node_modules/$dep"
done

# wheels with the system setuptools (setup.py bdist_wheel; no build isolation, no downloads)
for d in "$OUT"/pacmak/*/python; do
  (cd "$d" && "$PY" setup.py -q bdist_wheel -d "$OLDPWD/$DIST" >/dev/null 2>&1) || { echo "flavors/python: wheel build failed in $d" >&2; exit 1; }
done
ls -l "$DIST"
