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
