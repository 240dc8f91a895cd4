import { Pin, Routing } from '../../src/k8s';
import { validatePins } from '../../src/k8s/private/pins';

describe('Routing and pins', () => {
  test.each([
    [Routing.random(), { kind: 'random' }, false],
    [Routing.headerHash('x-user-id'), { kind: 'headerHash', header: 'x-user-id' }, true],
    [Routing.queryHash('user'), { kind: 'queryHash', param: 'user' }, true],
  ])('%#: binds to its routing data', (routing, spec, sticky) => {
    expect(routing._bind('App/R')).toEqual(spec);
    expect(routing.sticky).toBe(sticky);
  });

  test('an empty query key is rejected', () => {
    expect(() => Routing.queryHash('')._bind('App/R')).toThrow(/\[App\/R\] routing\.param: a sticky split needs the name/);
  });

  test('pins lowercase header names and may share a name with different values', () => {
    const pins = [Pin.header('X-Model-Version', 'v2', 'v2'), Pin.header('x-model-version', 'v3', 'v3'), Pin.query('version', 'v2', 'v2')];
    expect(pins[0]._spec()).toEqual({ version: 'v2', header: { name: 'x-model-version', value: 'v2' } });
    expect(() => validatePins('App/R', pins.map((p) => p._spec()))).not.toThrow();
    expect(() => validatePins('App/R', [Pin.query('v', '', 'v2')._spec()])).toThrow(/pins\[0\]: a pin needs the name and the value/);
  });
});
