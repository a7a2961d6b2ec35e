// The same drill-down with JavaScript off: every step is a link or a <details>.
import { test, expect } from '@playwright/test';
import { drillDown } from './journeys';

test.use({ javaScriptEnabled: false });

test('with JavaScript off, company to a metric\'s evidence by clicks', async ({ page }) => {
  await drillDown(page);
});

test('with JavaScript off, the scope form filters the page', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('scope-select').selectOption('domain:safety');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/scope=domain%3Asafety/);
  await expect(page.getByRole('heading', { level: 2, name: /in Safety$/ })).toBeVisible();
});

test('with JavaScript off, child units sort by their headers and models filter by name', async ({ page }) => {
  await page.goto('/');
  const children = page.getByTestId('child-row').getByRole('link');
  await page.getByTestId('child-table').getByRole('link', { name: 'Unit', exact: true }).click();
  await expect(page).toHaveURL(/sort=name/);
  await page.waitForLoadState('load');
  await expect(children.first()).toBeVisible();
  const names = await children.allTextContents();
  expect(names.length).toBeGreaterThan(1);
  expect(names).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));

  const rows = page.getByTestId('model-row');
  const name = (await rows.last().getByRole('link').textContent())!;
  await page.getByTestId('model-filter').fill(name);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/[?&]q=/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(name);
});
