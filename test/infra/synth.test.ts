import { findObject, objectsOf } from '../support/synth';

const objects = [
  { kind: 'Deployment', metadata: { name: 'a' } },
  { kind: 'Deployment', metadata: { name: 'b' } },
  { kind: 'Service', metadata: { name: 'a' } },
];

describe('finding objects in a synth', () => {
  test('objectsOf: every object of a kind, or of a kind and name, in synth order', () => {
    expect(objectsOf(objects, 'Deployment').map((o) => o.metadata.name)).toEqual(['a', 'b']);
    expect(objectsOf(objects, 'Deployment', 'b')).toEqual([objects[1]]);
    expect(objectsOf(objects, 'HTTPRoute')).toEqual([]);
  });

  test('findObject: the first match; none fails naming what was asked and listing what the synth holds', () => {
    expect(findObject(objects, 'Service')).toBe(objects[2]);
    expect(findObject(objects, 'Deployment', 'b')).toBe(objects[1]);
    expect(() => findObject(objects, 'Deployment', 'c')).toThrow('no Deployment "c" in the synth; it holds: Deployment a, Deployment b, Service a');
    expect(() => findObject([], 'HTTPRoute')).toThrow('no HTTPRoute in the synth; it holds: nothing');
  });
});
