import { test, expect } from '@playwright/test';

test.use({ javaScriptEnabled: false });

test('with JavaScript off the overview renders and the filter form works', async ({ page }) => {
  await page.goto('/units');
  await expect(page.getByTestId('unit-row')).toHaveCount(17);
  await expect(page.getByRole('search')).not.toHaveAttribute('data-hydrated', 'true');

  await page.getByTestId('unit-filter').fill('spam');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/\?q=spam$/);
  await expect(page.getByTestId('unit-row')).toHaveCount(1);
  await expect(page.getByRole('rowheader', { name: /^Spam/ })).toBeVisible();
  await expect(page.getByTestId('shown-count')).toHaveText('Showing 1 of 17 org units');
});
