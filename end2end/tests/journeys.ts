// Steps shared by the dashboard specs (with and without JavaScript).
import { expect, type Page } from '@playwright/test';

/** Waits until the server has computed the metrics (it does so shortly after it starts). */
export async function scorecard(page: Page, path = '/') {
  await expect
    .poll(async () => (await page.goto(path))?.status(), { timeout: 20_000 })
    .toBe(200);
}

/** Company -> org -> ... -> team by clicking the first child unit, then a model, then a metric. */
export async function drillDown(page: Page) {
  await scorecard(page);
  await expect(page.getByTestId('unit-kind')).toHaveText('company');
  // A score says what it rests on and how it moved: the demo comes with weeks of history.
  await expect(page.getByTestId('overall-coverage')).toContainText(/rests on (all )?\d+/);
  await expect(page.getByTestId('score-change')).toHaveText(/^[+-]?\d\.\d\d$/);
  await expect(page.getByTestId('scope-score')).toHaveCount(0);
  const visited: string[] = [];
  while ((await page.getByTestId('unit-kind').textContent()) !== 'team') {
    const child = page.getByTestId('child-row').first().getByRole('link');
    const name = (await child.textContent())!;
    visited.push(name);
    await child.click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  }
  expect(visited.length).toBeGreaterThanOrEqual(2);
  // The breadcrumbs name the way down.
  const crumbs = page.getByTestId('breadcrumbs').getByRole('link');
  await expect(crumbs).toHaveCount(visited.length + 1);

  const model = page.getByTestId('model-row').first().getByRole('link');
  const modelName = (await model.textContent())!;
  await model.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(modelName);
  await expect(page.getByTestId('breadcrumbs').getByRole('link')).toHaveCount(visited.length + 2);

  const metric = page.getByTestId('metric-row').first();
  await expect(metric.getByTestId('evidence')).toBeHidden();
  await metric.locator('summary').click();
  const evidence = metric.getByTestId('evidence');
  await expect(evidence).toBeVisible();
  await expect(evidence).toContainText('To lift it');
  // Sentences, not raw JSON: what decided the level, ending with the level it reached.
  await expect(evidence.locator('.because').last()).toHaveText(/level \d \(|^Unknown: /);
  await expect(evidence.locator('pre')).toHaveCount(0);

  // Every asset has a page: a binary, its lineage drawn as steps, and back to its model source.
  const binary = page.getByTestId('binaries').getByRole('link').first();
  const binaryName = (await binary.textContent())!;
  await binary.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(binaryName);
  const steps = page.getByTestId('lineage-steps');
  await expect(steps.locator('.step.here')).toContainText(binaryName);
  await expect(steps.locator('.step').first()).toContainText('upstream');
  await page.locator('.facts').getByRole('link', { name: modelName }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(modelName);
}

/**
 * Signs in with `token` on the sign-in page, then opens `next` once it answers 200 (a model
 * written just before is in the metrics shortly after its write; signed in, a page is never one
 * kept for anonymous readers) and waits for it to hydrate.
 */
export async function signIn(page: Page, token: string, next: string) {
  await page.goto(`/signin?next=${encodeURIComponent(next)}`);
  // The form signs in through the app once hydrated (the bundle loads after the first paint).
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.getByTestId('token-input').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in')).toBeVisible();
  await expect
    .poll(async () => (await page.goto(next))?.status(), { timeout: 30_000 })
    .toBe(200);
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
}
