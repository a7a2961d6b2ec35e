// The dashboard journeys: drill down from the company to one metric's evidence by clicks only,
// a heat-map cell to its filtered list, search by tag, and CSV with the rows shown.
import { test, expect } from '@playwright/test';
import { drillDown, scorecard } from './journeys';
import { readFileSync } from 'node:fs';

test('company to org to team to model to a metric\'s evidence, by clicks', async ({ page }) => {
  await drillDown(page);
});

test('a heat-map cell leads to that unit filtered to that domain', async ({ page }) => {
  await scorecard(page);
  const cell = page.getByTestId('chart-heat-map').locator('a.chart-link').filter({ hasText: ' in Fairness: ' }).first();
  const title = (await cell.locator('title').textContent())!;
  const unit = title.split(' in Fairness: ')[0];
  await cell.click();
  await expect(page).toHaveURL(/\/units\/[^/]+\/[^/?]+\?scope=domain%3Afairness#models$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(unit);
  await expect(page.getByRole('heading', { level: 2, name: `Models below ${unit} in Fairness` })).toBeVisible();
  await expect(page.getByTestId('scope-select')).toHaveValue('domain:fairness');
});

test('a bucket of the distribution lists the models at that level', async ({ page }) => {
  await scorecard(page);
  await page.getByTestId('chart-distribution').locator('summary').click();
  await page.getByTestId('bucket-1').click();
  await expect(page).toHaveURL(/\?level=1#models$/);
  const badges = page.getByTestId('model-row').getByTestId('level-badge');
  await expect(badges.first()).toHaveText('1 · basic');
  for (const text of await badges.allTextContents()) expect(text).toBe('1 · basic');
});

test('search finds a model source by tag', async ({ page }) => {
  await page.goto('/search');
  await page.getByTestId('search-tag').fill('subject:churn');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/tag=subject%3Achurn/);
  const first = page.getByTestId('search-row').first().getByRole('link');
  await expect(first).toContainText('churn');
  const name = (await first.textContent())!;
  await first.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
});

test('search pages through every hit, models first, and finds org units', async ({ page }) => {
  await page.goto('/search?q=e');
  const rows = page.getByTestId('search-row');
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toContainText('model source');
  await expect(page.getByTestId('unit-hits').getByRole('link').first()).toBeVisible();
  await page.getByTestId('search-next').click();
  await expect(page).toHaveURL(/offset=50/);
  await expect(page.getByTestId('search-count')).toHaveText(/^(Results 51–\d+|No asset matches\.)$/);
  await expect(page.getByTestId('unit-hits')).toHaveCount(0);
});

test('the company lists all its models, 50 a page, the unowned among them', async ({ page }) => {
  await scorecard(page);
  await expect(page.getByTestId('models-count')).toHaveText('Models 1–50 of 60, the lowest first');
  await page.getByTestId('models-next').click();
  await expect(page).toHaveURL(/offset=50#models$/);
  await expect(page.getByTestId('models-count')).toHaveText('Models 51–60 of 60, the lowest first');
  await expect(page.getByTestId('model-row')).toHaveCount(10);
  await expect(page.getByTestId('models-next')).toHaveCount(0);
});

test('the CSV download has the rows shown', async ({ page }) => {
  await scorecard(page);
  await expect(page.getByTestId('child-row').first()).toBeVisible();
  const shown = await page.getByTestId('model-row').count();
  expect(shown).toBeGreaterThan(0);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('section.models').getByTestId('csv-link').click(),
  ]);
  const text = readFileSync((await download.path())!, 'utf8').trim().split('\n');
  expect(text[0]).toBe('model_source,model_id,model,level,metrics_at_risk');
  expect(text.length - 1).toBe(shown);
  const firstName = (await page.getByTestId('model-row').first().getByRole('link').textContent())!;
  expect(text[1]).toContain(firstName);
});

test('once hydrated, tables filter and sort in place, without errors', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await scorecard(page);
  await expect(page.locator('.table-tools')).toHaveAttribute('data-hydrated', 'true');
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));

  const rows = page.getByTestId('model-row');
  const before = await rows.count();
  const name = (await rows.nth(before - 1).getByRole('link').textContent())!;
  await page.getByTestId('model-filter').fill(name);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(name);

  const children = page.getByTestId('child-row').getByRole('link');
  await page.getByTestId('child-table').getByRole('link', { name: 'Unit', exact: true }).click();
  const names = await children.allTextContents();
  expect(names).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));

  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  expect(errors).toEqual([]);
});
