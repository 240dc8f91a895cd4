// The one place the synthesis benchmark names the library: the compiled package (lib/, built by `npm run bench`).
// Each target loads only its own entry point.
const path = require('path');

const lib = path.join(__dirname, '..', '..', 'lib');

module.exports = {
  /** the Kubernetes (cdk8s) constructs */
  k8s: () => require(lib),
  /** the AWS (cdktf) constructs */
  aws: () => require(lib),
};
