#!/usr/bin/env bash
# A Kubernetes-only app, as a new user makes it: the packed tarball plus cdk8s, cdk8s-plus-33 and constructs, no
# Terraform package. Prints the install size, the packages installed, and what requiring the Kubernetes entry
# point loads; synthesizes a Model, an Environment and a CanaryRollout. Needs `lib/` built (npx projen compile &&
# npx projen post-compile) and the bundles (npx projen bundle). Usage: bash bench/install/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/cdk-model-rollout-*.tgz)
versions=$(node -p "const d=require('./package.json').devDependencies; ['cdk8s','cdk8s-plus-33','constructs'].map(n=>n+'@'+d[n]).join(' ')")
mkdir "$work/app" && cd "$work/app"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund --prefer-offline "$tarball" $versions
cp "$OLDPWD/bench/install/app.js" .
echo "tarball: $(du -k "$tarball" | cut -f1) KB"
echo "node_modules: $(du -sm node_modules | cut -f1) MB, packages: $(find node_modules -maxdepth 2 -name package.json | wc -l)"
echo "Terraform packages installed: $(ls -d node_modules/cdktf node_modules/@cdktf 2>/dev/null | wc -l)"
node app.js
