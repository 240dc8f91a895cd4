/**
 * Structural validation of prometheus-operator `monitoring.coreos.com/v1` PodMonitor objects. No typed model of this
 * CRD is installed (no @kubernetes-models/prometheus-operator in node_modules), so the field list below is taken from
 * the operator's API reference (prometheus-operator/prometheus-operator `Documentation/api-reference/api.md`:
 * `PodMonitorSpec`, `PodMetricsEndpoint`, `RelabelConfig`, `NamespaceSelector`) and the CRD
 * (`example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml`): unknown fields and wrong types are errors.
 */

const SPEC = new Set(['jobLabel', 'podTargetLabels', 'podMetricsEndpoints', 'selector', 'namespaceSelector', 'sampleLimit', 'targetLimit', 'labelLimit', 'labelNameLengthLimit', 'labelValueLengthLimit', 'attachMetadata', 'scrapeProtocols', 'scrapeClass']);
const ENDPOINT = new Set(['port', 'portNumber', 'targetPort', 'path', 'scheme', 'params', 'interval', 'scrapeTimeout', 'honorLabels', 'honorTimestamps', 'trackTimestampsStaleness', 'metricRelabelings', 'relabelings', 'proxyUrl', 'followRedirects', 'enableHttp2', 'filterRunning', 'basicAuth', 'oauth2', 'authorization', 'bearerTokenSecret', 'tlsConfig']);
const RELABEL = new Set(['sourceLabels', 'separator', 'targetLabel', 'regex', 'modulus', 'replacement', 'action']);
const ACTIONS = new Set(['replace', 'Replace', 'keep', 'Keep', 'drop', 'Drop', 'hashmod', 'HashMod', 'labelmap', 'LabelMap', 'labeldrop', 'LabelDrop', 'labelkeep', 'LabelKeep', 'lowercase', 'Lowercase', 'uppercase', 'Uppercase', 'keepequal', 'KeepEqual', 'dropequal', 'DropEqual']);
// Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*; durations: ([0-9]+(ms|s|m|h|d|w|y))+
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DURATION = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;

/** Problems of a PodMonitor object, as `PodMonitor/name: message` lines. */
export function validatePodMonitor(obj: any): string[] {
  const label = `PodMonitor/${obj?.metadata?.name}`;
  const errors: string[] = [];
  const unknown = (where: string, o: any, allowed: Set<string>) => {
    for (const k of Object.keys(o ?? {})) if (!allowed.has(k)) errors.push(`${label}: unknown field ${where}.${k}`);
  };
  if (obj.apiVersion !== 'monitoring.coreos.com/v1' || obj.kind !== 'PodMonitor') errors.push(`${label}: not a monitoring.coreos.com/v1 PodMonitor`);
  if (!obj.metadata?.name) errors.push(`${label}: metadata.name is required`);
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object') return [...errors, `${label}: spec is required`];
  unknown('spec', spec, SPEC);
  if (!spec.selector || typeof spec.selector !== 'object') errors.push(`${label}: spec.selector is required`);
  for (const [k, v] of Object.entries(spec.selector?.matchLabels ?? {})) if (typeof v !== 'string') errors.push(`${label}: spec.selector.matchLabels.${k} must be a string`);
  if (spec.namespaceSelector) {
    unknown('spec.namespaceSelector', spec.namespaceSelector, new Set(['any', 'matchNames']));
    if (spec.namespaceSelector.matchNames && !Array.isArray(spec.namespaceSelector.matchNames)) errors.push(`${label}: spec.namespaceSelector.matchNames must be a list`);
  }
  if (!Array.isArray(spec.podMetricsEndpoints) || spec.podMetricsEndpoints.length === 0) errors.push(`${label}: spec.podMetricsEndpoints is required`);
  (spec.podMetricsEndpoints ?? []).forEach((e: any, i: number) => {
    const where = `spec.podMetricsEndpoints[${i}]`;
    unknown(where, e, ENDPOINT);
    if (e.port !== undefined && typeof e.port !== 'string') errors.push(`${label}: ${where}.port must be a port name (string)`);
    if (e.path !== undefined && (typeof e.path !== 'string' || !e.path.startsWith('/'))) errors.push(`${label}: ${where}.path must be an absolute path`);
    if (e.interval !== undefined && !DURATION.test(e.interval)) errors.push(`${label}: ${where}.interval is not a Prometheus duration: ${e.interval}`);
    for (const key of ['relabelings', 'metricRelabelings']) {
      (e[key] ?? []).forEach((r: any, j: number) => {
        const w = `${where}.${key}[${j}]`;
        unknown(w, r, RELABEL);
        if (r.action !== undefined && !ACTIONS.has(r.action)) errors.push(`${label}: ${w}.action ${r.action} is not a relabel action`);
        if (r.sourceLabels !== undefined && (!Array.isArray(r.sourceLabels) || !r.sourceLabels.every((l: string) => LABEL.test(l)))) errors.push(`${label}: ${w}.sourceLabels must be label names`);
        if (r.targetLabel !== undefined && !LABEL.test(r.targetLabel)) errors.push(`${label}: ${w}.targetLabel ${r.targetLabel} is not a label name`);
        if ((r.action ?? 'replace').toLowerCase() === 'replace' && r.targetLabel === undefined) errors.push(`${label}: ${w}.targetLabel is required by replace`);
      });
    }
  });
  return errors;
}
