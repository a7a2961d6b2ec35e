import { test, expect, type Page } from '@playwright/test';

const ALL_UNITS = 17;

async function hydrated(page: Page) {
  await expect(page.getByRole('search')).toHaveAttribute('data-hydrated', 'true');
}

test('the overview lists every org unit from the database', async ({ page }) => {
  const response = await page.goto('/units');
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle('All org units · modelgov');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('All org units');
  await expect(page.getByTestId('unit-row')).toHaveCount(ALL_UNITS);
  await expect(page.getByTestId('total-units')).toHaveText(String(ALL_UNITS));
  // Names arrive escaped and are shown as text.
  await expect(page.getByRole('rowheader', { name: /^Trust & Safety/ })).toBeVisible();
});

test('typing in the filter narrows the list in place once hydrated', async ({ page }) => {
  await page.goto('/units');
  await hydrated(page);
  // A full page load would drop this marker; filtering must not reload.
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));

  const filter = page.getByTestId('unit-filter');
  await filter.fill('trust');
  await expect(page.getByTestId('unit-row')).toHaveCount(4);
  await expect(page.getByTestId('shown-count')).toHaveText(`Showing 4 of ${ALL_UNITS} org units`);
  await expect(page.getByRole('rowheader', { name: /^Hate Speech/ })).toBeVisible();

  await filter.fill('no unit is called this');
  await expect(page.getByTestId('unit-row')).toHaveCount(0);
  await expect(page.getByTestId('no-match')).toBeVisible();

  await filter.fill('');
  await expect(page.getByTestId('unit-row')).toHaveCount(ALL_UNITS);
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
});

test('a shared address with a filter opens filtered', async ({ page }) => {
  await page.goto('/units?q=ads');
  await hydrated(page);
  await expect(page.getByTestId('unit-filter')).toHaveValue('ads');
  await expect(page.getByTestId('unit-row')).toHaveCount(6);
});

test('each unit shows its overall maturity once metrics are computed', async ({ page }) => {
  // The server recomputes the metrics shortly after it starts.
  await expect
    .poll(async () => {
      await page.goto('/units');
      return page.getByTestId('level-bar').count();
    }, { timeout: 20_000 })
    .toBe(ALL_UNITS);
  const company = page.getByTestId('unit-row').first();
  await expect(company.getByRole('img')).toHaveAttribute('aria-label', /^\d+ at risk, \d+ basic, \d+ managed, \d+ optimized, \d+ unknown$/);
});

test('every unit in the list opens its page', async ({ page }) => {
  await page.goto('/units?q=ads');
  await hydrated(page);
  const row = page.getByTestId('unit-row').nth(1);
  const name = (await row.locator('a.name').textContent())!;
  await row.locator('a.name').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
});
