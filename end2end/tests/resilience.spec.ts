// Stops Postgres under the running server and starts it again: the server must answer 503 with
// Retry-After quickly while it is away, and recover without a restart.
import { test, expect } from '@playwright/test';
import { execSync } from 'node:child_process';

const stop = process.env.MODELGOV_E2E_PG_STOP;
const start = process.env.MODELGOV_E2E_PG_START;

test('the server answers 503 while Postgres is down and recovers by itself', async ({ page, request }) => {
  test.skip(!stop || !start, 'MODELGOV_E2E_PG_STOP and MODELGOV_E2E_PG_START are not set (scripts/test sets them)');
  test.setTimeout(90_000);

  expect((await request.get('/readyz')).status()).toBe(200);
  execSync(stop!, { stdio: 'inherit' });
  try {
    const started = Date.now();
    const ready = await request.get('/readyz');
    const took = Date.now() - started;
    expect(ready.status()).toBe(503);
    expect(ready.headers()['retry-after']).toBe('1');
    console.log(`/readyz answered 503 in ${took} ms with Postgres stopped`);

    const response = await page.goto('/');
    expect(response?.status()).toBe(503);
    expect(response?.headers()['retry-after']).toBe('1');
    await expect(page.getByTestId('error-panel')).toContainText('database is unavailable');
    expect((await request.get('/healthz')).status()).toBe(200);
  } finally {
    execSync(start!, { stdio: 'inherit' });
  }

  await expect.poll(async () => (await request.get('/readyz')).status(), { timeout: 30_000 }).toBe(200);
  const response = await page.goto('/units');
  expect(response?.status()).toBe(200);
  await expect(page.getByTestId('unit-row')).toHaveCount(17);
});
