import { expectServableExample, loadManifests } from '../support/example-checks';
import { expectValid } from '../support/k8s-validate';

/** The KEDA HTTP add-on publishes no model in the upstream schema packages. */
export const HTTP_SCALED_OBJECT = { 'http.keda.sh/v1alpha1/HTTPScaledObject': 'the KEDA HTTP add-on CRD has no upstream model package' };

describe('examples/k8s-basic', () => {
  test('synthesizes, and every object passes the upstream schemas strictly', () => {
    // WHEN
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { outdir } = require('../../examples/k8s-basic/main');
    // THEN
    const objects = loadManifests(outdir);
    expect(objects.map((o: any) => o.kind).sort()).toEqual([
      'Deployment', 'Deployment', 'EC2NodeClass', 'HTTPRoute', 'HTTPRoute', 'HTTPScaledObject', 'NodePool',
      'PodDisruptionBudget', 'PodDisruptionBudget', 'PodMonitor', 'PodMonitor', 'ReferenceGrant', 'ScaledObject', 'Service', 'Service',
    ]);
    expectValid(objects, { allow: HTTP_SCALED_OBJECT });
    console.log(`examples/k8s-basic: ${objects.length} objects validated strictly`);
  });

  test('carries the serving arguments a real GPU node needs, and stays within CRD limits', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expectServableExample(require('../../examples/k8s-basic/main').outdir);
  });

});
