// What managers, team leads and new readers do with the demo company: open a search hit of every
// kind, follow lineage, move between pages in the app (charts come along), read values with
// their units, learn how the numbers are made, and read every page on a phone.
import { test, expect, Page } from '@playwright/test';

const KINDS = [
  ['feature_source', 'feature source'],
  ['logical_feature', 'logical feature'],
  ['dataset', 'dataset'],
  ['workflow_run', 'workflow run'],
  ['model_binary', 'model binary'],
  ['deployment', 'deployment'],
  ['model_source', 'model source'],
] as const;

test('a search hit of every kind opens its page', async ({ page }) => {
  for (const [kind, label] of KINDS) {
    await page.goto(`/search?q=e&kind=${kind}`);
    const row = page.getByTestId('search-row').first();
    await expect(row).toContainText(label);
    const link = row.getByRole('link');
    const name = (await link.textContent())!;
    await link.click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  }
});

test('a lineage node leads to its asset page and back', async ({ page }) => {
  await page.goto('/search?q=e&kind=dataset');
  const first = page.getByTestId('search-row').first().getByRole('link');
  const dataset = (await first.textContent())!;
  await first.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(dataset);
  const here = page.url();
  const steps = page.getByTestId('lineage-steps');
  const other = steps.locator('.step:not(.here)').getByRole('link').first();
  const name = (await other.textContent())!;
  await other.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  await page.goBack();
  await expect(page).toHaveURL(here);
  await expect(page.getByTestId('lineage-steps')).toBeVisible();
});

test('the lineage is drawn as a graph of links, in the direction and depth chosen', async ({ page }) => {
  await page.goto('/search?q=e&kind=model_binary');
  const first = page.getByTestId('search-row').first().getByRole('link');
  const name = (await first.textContent())!;
  await first.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  const graph = page.getByTestId('lineage-graph');
  const nodes = graph.locator('svg a');
  const both = await nodes.count();
  expect(both).toBeGreaterThan(2);
  await expect(graph.locator('svg g.here')).toContainText(name.slice(0, 20));

  const choice = page.getByTestId('lineage-choice');
  await choice.getByLabel('Direction').selectOption('down');
  await choice.getByLabel('Steps').selectOption('1');
  await choice.getByRole('button', { name: 'Draw' }).click();
  await expect(page).toHaveURL(/direction=down&depth=1/);
  await expect(page.getByTestId('lineage-graph').locator('svg a')).not.toHaveCount(both);

  await page.goBack();
  await expect(page).not.toHaveURL(/direction=down/);
  await expect(page.getByTestId('lineage-graph').locator('svg a')).toHaveCount(both);
  const other = page.getByTestId('lineage-graph').locator('svg g:not(.here) a').first();
  const title = (await other.locator('title').textContent())!;
  await other.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(title.split(': ').slice(1).join(': '));
});

test('a model shows when each deployment served which binary', async ({ page }) => {
  await page.goto('/search?q=e&kind=deployment');
  await page.getByTestId('search-row').first().getByRole('link').click();
  const periods = page.getByTestId('serving-periods');
  await expect(periods.locator('tbody tr').first()).toContainText('serving now');
  await page.locator('.facts').getByRole('link').first().click();
  await expect(page.getByTestId('serving-periods').locator('tbody tr').first()).toBeVisible();
  await expect(page.getByTestId('lineage-graph').locator('svg a').first()).toBeVisible();
});

test('the models no unit owns have a page listing exactly as many as the company says', async ({ page }) => {
  await page.goto('/');
  const link = page.getByTestId('unowned-link').getByRole('link');
  const n = Number((await link.textContent())!.match(/^(\d+)/)![1]);
  expect(n).toBeGreaterThan(0);
  await link.click();
  await expect(page).toHaveURL(/\/unowned$/);
  await expect(page.getByTestId('unit-kind')).toHaveText('unowned');
  await expect(page.getByTestId('model-row')).toHaveCount(Math.min(n, 50));
  await expect(page.getByTestId('models-count')).toContainText(`${n}`);
  await page.getByRole('navigation', { name: /breadcrumb/i }).getByRole('link').first().click();
  await expect(page.getByTestId('unit-kind')).toHaveText('company');
});

test('following a link in the app brings the charts of the page it opens', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('.table-tools')).toHaveAttribute('data-hydrated', 'true');
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  const child = page.getByTestId('child-row').first().getByRole('link');
  const name = (await child.textContent())!;
  await child.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  await expect(page.getByTestId('chart-distribution').locator('svg')).toHaveAttribute('aria-label', /Models by level/);
  await expect(page.getByTestId('chart-trend').locator('svg')).toHaveCount(1);
  // Rendered by the browser, not loaded again.
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
});

test('an org unit is reached from All org units and from search', async ({ page }) => {
  await page.goto('/units');
  const unit = page.getByTestId('unit-row').nth(1).getByRole('link').first();
  const name = (await unit.textContent())!.trim();
  await unit.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  await page.goto(`/search?q=${encodeURIComponent(name)}`);
  await page.getByTestId('unit-hits').getByRole('link', { name, exact: true }).first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
});

test('every value on a model page carries its unit', async ({ page }) => {
  await page.goto('/search?q=e&kind=model_source');
  const first = page.getByTestId('search-row').first().getByRole('link');
  const name = (await first.textContent())!;
  await first.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  await expect(page.locator('.metric summary .value').first()).toBeVisible();
  const values = await page.locator('.metric summary .value').allTextContents();
  expect(values.length).toBeGreaterThan(5);
  for (const value of values.map((v) => v.trim())) {
    // A word, or a number followed by its unit: never a bare number.
    expect(value).toMatch(/^(–|unknown|no value|yes|no|[+-]?[\d.,]+ ?(%|[A-Za-z][A-Za-z ]*))$/);
  }
});

test('"How these numbers are made" explains levels, rollups and the catalog', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('link', { name: 'How these numbers are made' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('About the numbers');
  await expect(page.getByRole('heading', { name: 'How units roll up' })).toBeVisible();
  const metric = page.locator('section').filter({ hasText: 'The catalog in use' }).getByRole('link').nth(1);
  await metric.click();
  await expect(page).toHaveURL(/\/metrics\//);
});

async function noSidewaysScroll(page: Page, path: string) {
  await page.goto(path);
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: document.documentElement.clientWidth,
  }));
  expect(scroll, `${path} is ${scroll} px wide at ${width} px`).toBeLessThanOrEqual(width);
}

test('every kind of page reads on a 375 px screen without scrolling sideways', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto('/search?q=e&kind=model_source');
  const model = (await page.getByTestId('search-row').first().getByRole('link').getAttribute('href'))!;
  await page.goto('/search?q=e&kind=model_binary');
  const asset = (await page.getByTestId('search-row').first().getByRole('link').getAttribute('href'))!;
  await page.goto('/units');
  const unit = (await page.getByTestId('unit-row').nth(1).getByRole('link').first().getAttribute('href'))!;
  for (const path of ['/', unit, '/units', model, asset, '/search?q=e', '/numbers', '/metrics/fairness_gap', '/about', '/signin', '/campaigns']) {
    await noSidewaysScroll(page, path);
  }
});

test('the keyboard reaches every link and control of a scorecard, each with a visible focus ring', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  const reachable = await page.locator('a[href], button, select, input:not([type=hidden])').filter({ visible: true }).count();
  const seen = new Set<string>();
  let unfocusedRing = 0;
  for (let i = 0; i < reachable + 5; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const key = `${el.tagName}|${el.getAttribute('href') ?? ''}|${el.textContent?.trim().slice(0, 40) ?? ''}|${el.getAttribute('name') ?? ''}`;
      return { key, ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
    });
    if (!focused) continue;
    seen.add(focused.key);
    if (!focused.ring) unfocusedRing++;
  }
  // Every interactive element of the page is reached (links inside charts included), and each
  // shows its focus.
  expect(seen.size).toBeGreaterThanOrEqual(reachable - 1);
  expect(unfocusedRing).toBe(0);
});
