/**
 * How an environment's manifests reach the cluster. It decides what a re-apply of unchanged manifests can do to
 * the fields the step controller owns (the HTTPRoute's `spec.rules`, replica floors), and so whether the previous
 * version may be scaled to zero after a promotion while the code still names it (README "Who owns what").
 */
export enum ManifestApplier {
  /**
   * `kubectl apply`: client-side (its three-way merge sets every field the manifest carries that differs from the
   * live object), server-side with `--force-conflicts` (takes the controller's fields), or server-side without it
   * (refused with a conflict on them). A re-apply after a promotion sends every request to the version the code
   * still names, so that version keeps its replicas until the code names the new one; `keepPreviousWarmFor` is
   * refused at synth for a rollout on a Gateway route.
   */
  KUBECTL = 'kubectl',
  /**
   * Flux's kustomize-controller: server-side apply with ownership forced (fluxcd/pkg `ssa/manager_apply.go`). The
   * rollout's HTTPRoute is annotated `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent`, so Flux creates it and never
   * applies it again while a rollout is in the code (the controller's rules stay); the previous version is scaled
   * to zero after the keep-warm window.
   */
  FLUX = 'flux',
  /**
   * Argo CD with the Application's `ignoreDifferences` on every field the objects list in
   * `model-rollout.dev/controller-owned-fields`, and the sync option `RespectIgnoreDifferences=true` (Argo CD then
   * applies the live value of those fields: https://argo-cd.readthedocs.io/en/stable/user-guide/sync-options/).
   * Without both, a sync behaves as `KUBECTL`. The previous version is scaled to zero after the keep-warm window;
   * versions whose floor the controller owns start at 0 replicas.
   */
  ARGO_CD = 'argocd',
  /**
   * The Terraform bridge (`KubernetesManifests`): the controller-owned fields are `computed_fields`, so a deploy of
   * unchanged code re-sends the live values. The previous version is scaled to zero after the keep-warm window;
   * versions whose floor the controller owns start at 0 replicas.
   */
  TERRAFORM = 'terraform',
}
