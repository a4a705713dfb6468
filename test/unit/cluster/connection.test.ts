/** `--cluster` values: local[:N], redis:// (auth, db), rediss:// (TLS), unix://; a password never printed. */
import { parseClusterTarget, redisOptions } from '../../../src/cluster/connection';

it('local and local:N start a private Redis with N workers (2 by default); N out of range is refused', () => {
  expect(parseClusterTarget('local')).toEqual({ kind: 'local', workers: 2 });
  expect(parseClusterTarget('local:3')).toEqual({ kind: 'local', workers: 3 });
  expect(() => parseClusterTarget('local:0')).toThrow(/1 ≤ N ≤ 64/);
});

it('redis:// with user, password and db; rediss:// adds TLS; the label hides the password', () => {
  const o = redisOptions('redis://etl:s3cret@redis.internal:6380/2');
  expect(o).toMatchObject({ host: 'redis.internal', port: 6380, db: 2, username: 'etl', password: 's3cret', label: 'redis://etl@redis.internal:6380/2' });
  expect(o.tls).toBeUndefined();
  expect(redisOptions('rediss://:pw@cache.example:6379')).toMatchObject({ host: 'cache.example', password: 'pw', tls: { servername: 'cache.example' } });
  expect(redisOptions('redis://localhost')).toMatchObject({ host: 'localhost', port: 6379, db: 0 });
});

it('unix:// names the socket', () => {
  expect(redisOptions('unix:///run/redis/redis.sock')).toMatchObject({ path: '/run/redis/redis.sock' });
});

it('anything else is refused with the forms it takes, without echoing a password', () => {
  expect(() => parseClusterTarget('http://x:secret@h')).toThrow(/http:\/\/ is not a Redis URL.*local\[:N\], redis:\/\//s);
  expect(() => parseClusterTarget('http://x:secret@h')).not.toThrow(/secret/);
  expect(() => parseClusterTarget('redis://h/x')).toThrow(/no database number/);
  expect(() => parseClusterTarget('nonsense')).toThrow(/not a URL/);
});
