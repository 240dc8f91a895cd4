/** What each `ManifestApplier` does to the fields the step controller owns (README "Who owns what"). */
import { ManifestApplier } from '../manifest-applier';

/** Whether a re-apply of unchanged manifests leaves the controller-owned fields (route rules, floors) alone. */
export function keepsControllerFields(applier: ManifestApplier): boolean {
  return applier !== ManifestApplier.KUBECTL;
}

/** Whether a re-apply leaves a Deployment's `replicas` alone when the objects mark it controller-owned. */
export function keepsReplicas(applier: ManifestApplier): boolean {
  return applier === ManifestApplier.ARGO_CD || applier === ManifestApplier.TERRAFORM;
}

/** Flux's create-only annotation (https://fluxcd.io/flux/components/kustomize/kustomizations/#controlling-the-apply-behavior-of-resources). */
export const FLUX_SSA_ANNOTATION = 'kustomize.toolkit.fluxcd.io/ssa';
