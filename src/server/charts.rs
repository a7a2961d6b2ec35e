//! The dashboard's charts, drawn with plotters as SVG on the server: titled, with labelled axes
//! and a legend where colours carry meaning, each level in the colour it has everywhere (the
//! `--level-*` colours of style/main.css). Bars and cells that drill down get a link drawn over
//! them at the coordinates plotters placed them. Text is escaped by plotters' SVG backend; the
//! links' addresses and titles are escaped here.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::model::dashboard::Bucket;
use crate::model::metrics::Counts;

pub const INK: RGBColor = RGBColor(0x1d, 0x24, 0x30);
pub const MUTED: RGBColor = RGBColor(0x5b, 0x65, 0x77);
pub const LINE: RGBColor = RGBColor(0xdf, 0xe3, 0xea);

/// Font sizes as plotters takes them: its SVG writes a size divided by 1.24, so 15 is 12.1 px, the
/// least any chart text may have, and 20 is a 16 px title.
const TEXT: f64 = 15.0;
const TITLE: f64 = 20.0;

/// A bucket's colour, as in the stylesheet (each at least 4.5:1 against white text).
pub fn colour(bucket: Bucket) -> RGBColor {
    match bucket {
        Bucket::Level(level) => match level.get() {
            0 => RGBColor(0xc0, 0x39, 0x2b),
            1 => RGBColor(0xb4, 0x53, 0x09),
            2 => RGBColor(0x1f, 0x6f, 0xa8),
            _ => RGBColor(0x1e, 0x84, 0x49),
        },
        Bucket::Unknown => RGBColor(0x66, 0x70, 0x85),
        Bucket::Exempt => RGBColor(0x6d, 0x28, 0xd9),
    }
}

/// The colour of a score (a mean level, 0-3): the colour of the level it has reached.
fn score_colour(score: Option<f64>) -> RGBColor {
    let reached = |s: f64| {
        crate::model::metrics::Level::ALL
            .into_iter()
            .rev()
            .find(|level| f64::from(level.get()) <= s)
    };
    colour(score.map_or(Bucket::Unknown, |s| {
        Bucket::Level(reached(s).unwrap_or(crate::model::metrics::Level::AT_RISK))
    }))
}

/// A link to draw over a chart: a rectangle in pixels, where it leads, what it says.
struct Hotspot {
    rect: ((i32, i32), (i32, i32)),
    href: String,
    title: String,
}

/// Draws with `draw` on a `width` × `height` SVG and lays `hotspots` over it as links. The SVG
/// names itself with `title` for assistive technology.
fn svg(
    width: u32,
    height: u32,
    title: &str,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<Vec<Hotspot>, String>,
) -> String {
    let mut out = String::new();
    let hotspots = {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|()| draw(&root));
        let hotspots = match drawn {
            Ok(hotspots) => hotspots,
            Err(error) => {
                tracing::error!(%error, title, "a chart could not be drawn");
                Vec::new()
            }
        };
        if let Err(error) = root.present() {
            tracing::error!(%error, title, "a chart could not be written");
        }
        hotspots
    };
    let mut links = String::new();
    for h in &hotspots {
        let ((x0, y0), (x1, y1)) = h.rect;
        let _ = write!(
            links,
            r#"<a href="{}" class="chart-link"><title>{}</title><rect x="{}" y="{}" width="{}" height="{}" fill="transparent"/></a>"#,
            crate::model::text::escape_html(&h.href),
            crate::model::text::escape_html(&h.title),
            x0.min(x1),
            y0.min(y1),
            (x1 - x0).abs().max(1),
            (y1 - y0).abs().max(1),
        );
    }
    // A chart whose parts are links is a group of them (an image may hold no link).
    let role = if hotspots.is_empty() { "img" } else { "group" };
    let labelled = format!(
        r#"<svg role="{role}" aria-label="{}" "#,
        crate::model::text::escape_html(title)
    );
    tidy(&out)
        .replacen("<svg ", &labelled, 1)
        .replacen("</svg>", &format!("{links}</svg>"), 1)
}

/// Plotters' SVG, lighter: without the attributes that say what SVG's defaults say (full
/// opacity, no stroke, a stroke 1 wide, text anchored at its start), with the font family said
/// once on the root, font sizes to a tenth of a pixel, and without an element repeated right
/// after itself (points of a trend that fall on the same pixel).
fn tidy(svg: &str) -> String {
    const DEFAULTS: [&str; 5] = [
        r#" opacity="1""#,
        r#" stroke="none""#,
        r#" stroke-width="1""#,
        r#" text-anchor="start""#,
        r#" font-family="sans-serif""#,
    ];
    let mut out = String::with_capacity(svg.len());
    let mut previous = "";
    for line in svg.lines() {
        if line == previous && !line.trim().is_empty() {
            continue;
        }
        previous = line;
        let mut rest = line.to_string();
        for default in DEFAULTS {
            rest = rest.replace(default, "");
        }
        if let Some(at) = rest.find(r#"font-size=""#) {
            let start = at + r#"font-size=""#.len();
            if let Some(len) = rest[start..].find('"')
                && let Ok(size) = rest[start..start + len].parse::<f64>()
            {
                rest.replace_range(start..start + len, &format!("{size:.1}"));
            }
        }
        out.push_str(&rest);
        out.push('\n');
    }
    out.replacen("<svg ", r#"<svg font-family="sans-serif" "#, 1)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The level colours and their names, in a row from (`x`, `y`) of `area`.
fn legend(area: &DrawingArea<SVGBackend, Shift>, x: i32, y: i32) -> Result<(), String> {
    let mut left = x;
    // Scores are coloured by level (or unknown); exempt is a count, never a score.
    for bucket in Bucket::ALL.into_iter().filter(|b| *b != Bucket::Exempt) {
        area.draw(&Rectangle::new(
            [(left, y), (left + 12, y + 12)],
            colour(bucket).filled(),
        ))
        .map_err(err)?;
        let name = match bucket {
            Bucket::Level(level) => format!("{} {}", level.get(), level.name()),
            Bucket::Unknown | Bucket::Exempt => bucket.name().to_string(),
        };
        // About 7 px a character at 12 px, then a gap.
        let width = 16 + 15 * i32::try_from(name.chars().count()).unwrap_or(12) / 2 + 16;
        area.draw(&Text::new(
            name,
            (left + 16, y),
            ("sans-serif", TEXT).into_font().color(&INK),
        ))
        .map_err(err)?;
        left += width;
    }
    Ok(())
}

/// How many models sit in each bucket: one bar per bucket, each a link to the bucket's models.
pub fn distribution(title: &str, counts: &Counts, href: impl Fn(Bucket) -> String) -> String {
    svg(500, 260, title, |root| {
        let max = Bucket::ALL
            .iter()
            .map(|b| b.count(counts))
            .max()
            .unwrap_or(0)
            .max(1);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", TITLE).into_font().color(&INK))
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(48)
            .build_cartesian_2d((0..6i32).into_segmented(), 0..(max + max / 8 + 1))
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(LINE)
            .light_line_style(TRANSPARENT)
            .x_labels(6)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
                    .ok()
                    .and_then(|i| Bucket::ALL.get(i))
                    .map(|b| b.name().to_string())
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .x_desc("level")
            .y_desc("models")
            .axis_desc_style(("sans-serif", TEXT).into_font().color(&MUTED))
            .label_style(("sans-serif", TEXT).into_font().color(&INK))
            .draw()
            .map_err(err)?;
        let mut hotspots = Vec::new();
        for (i, bucket) in (0..).zip(Bucket::ALL) {
            let n = bucket.count(counts);
            let bar = [(SegmentValue::Exact(i), 0), (SegmentValue::Exact(i + 1), n)];
            let mut rect = Rectangle::new(bar, colour(bucket).filled());
            rect.set_margin(0, 0, 8, 8);
            chart.draw_series(std::iter::once(rect)).map_err(err)?;
            let top = chart.backend_coord(&(SegmentValue::Exact(i), max + max / 8 + 1));
            let bottom = chart.backend_coord(&(SegmentValue::Exact(i + 1), 0));
            hotspots.push(Hotspot {
                rect: ((top.0 + 8, top.1), (bottom.0 - 8, bottom.1)),
                href: href(bucket),
                title: format!("{n} models {}: show them", bucket.name()),
            });
        }
        Ok(hotspots)
    })
}

/// One horizontal bar per domain: its score (mean level, 0-3) in the colour of the level reached;
/// each bar a link to the unit filtered to that domain.
pub fn domain_scores(title: &str, domains: &[(String, Option<f64>, String)]) -> String {
    let height = 74 + 28 * u32::try_from(domains.len()).unwrap_or(8);
    svg(500, height + 26, title, |root| {
        let n = i32::try_from(domains.len()).unwrap_or(0).max(1);
        let (plot, key) = root.split_vertically(height);
        legend(&key, 14, 6)?;
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, ("sans-serif", TITLE).into_font().color(&INK))
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(220)
            .build_cartesian_2d(0f64..3f64, (0..n).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(LINE)
            .light_line_style(TRANSPARENT)
            .x_labels(4)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_labels(domains.len())
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
                    .ok()
                    .and_then(|i| domains.len().checked_sub(i + 1))
                    .and_then(|i| domains.get(i))
                    .map(|d| d.0.clone())
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .x_desc("score (mean level: 0 at risk … 3 optimized)")
            .axis_desc_style(("sans-serif", TEXT).into_font().color(&MUTED))
            .label_style(("sans-serif", TEXT).into_font().color(&INK))
            .draw()
            .map_err(err)?;
        let mut hotspots = Vec::new();
        // The first domain on top: segments count from the bottom.
        for (i, (name, score, href)) in (0..n).rev().zip(domains) {
            let value = score.unwrap_or(0.0);
            let mut rect = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (value, SegmentValue::Exact(i + 1)),
                ],
                score_colour(*score).filled(),
            );
            rect.set_margin(5, 5, 0, 0);
            chart.draw_series(std::iter::once(rect)).map_err(err)?;
            let a = chart.backend_coord(&(0.0, SegmentValue::Exact(i)));
            let b = chart.backend_coord(&(3.0, SegmentValue::Exact(i + 1)));
            hotspots.push(Hotspot {
                rect: (a, b),
                href: href.clone(),
                title: format!(
                    "{name}: {}",
                    score.map_or_else(|| "unknown".to_string(), |s| format!("{s:.2}"))
                ),
            });
        }
        Ok(hotspots)
    })
}

/// Child units (rows) by domain (columns), each cell coloured by the level its score reaches and
/// showing the score; each cell a link to that child filtered to that domain.
/// A heat-map row: the unit's name, its score per domain, and where each cell leads.
pub type HeatRow = (String, Vec<Option<f64>>, Vec<String>);

pub fn heat_map(title: &str, domains: &[String], rows: &[HeatRow]) -> String {
    let columns = u32::try_from(domains.len()).unwrap_or(1).max(1);
    let lines = u32::try_from(rows.len()).unwrap_or(1).max(1);
    // Room for the longest domain name, written upwards, at about 7 px a character.
    let longest = domains
        .iter()
        .map(|d| d.chars().count())
        .max()
        .unwrap_or(10);
    let head_h = 40 + 7 * u32::try_from(longest).unwrap_or(30).min(40);
    let (label_w, cell_w, cell_h) = (200u32, 64u32, 28u32);
    let width = (label_w + columns * cell_w + 20).max(520);
    let height = head_h + lines * cell_h + 44;
    svg(width, height, title, |root| {
        let font = ("sans-serif", TEXT).into_font().color(&INK);
        root.draw(&Text::new(
            title.to_string(),
            (10, 8),
            ("sans-serif", TITLE).into_font().color(&INK),
        ))
        .map_err(err)?;
        let px = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        for (c, domain) in (0u32..).zip(domains) {
            let x = px(label_w + c * cell_w + cell_w / 2);
            root.draw(&Text::new(
                domain.clone(),
                (x, px(head_h - 6)),
                font.clone().transform(FontTransform::Rotate270),
            ))
            .map_err(err)?;
        }
        legend(root, 10, px(head_h + lines * cell_h + 16))?;
        let mut hotspots = Vec::new();
        for (r, (name, scores, hrefs)) in (0u32..).zip(rows) {
            let y = px(head_h + r * cell_h);
            let short: String = if name.chars().count() > 26 {
                name.chars().take(25).chain(std::iter::once('…')).collect()
            } else {
                name.clone()
            };
            root.draw(&Text::new(short, (10, y + 8), font.clone()))
                .map_err(err)?;
            for (c, score) in (0u32..).zip(scores) {
                let x = px(label_w + c * cell_w);
                let cell = ((x + 1, y + 1), (x + px(cell_w) - 1, y + px(cell_h) - 1));
                root.draw(&Rectangle::new(
                    [cell.0, cell.1],
                    score_colour(*score).filled(),
                ))
                .map_err(err)?;
                let text = score.map_or_else(|| "–".to_string(), |s| format!("{s:.1}"));
                root.draw(&Text::new(
                    text.clone(),
                    (x + px(cell_w / 2) - 8, y + 8),
                    ("sans-serif", TEXT).into_font().color(&WHITE),
                ))
                .map_err(err)?;
                if let (Some(href), Some(domain)) = (hrefs.get(c as usize), domains.get(c as usize))
                {
                    hotspots.push(Hotspot {
                        rect: cell,
                        href: href.clone(),
                        title: format!("{name} in {domain}: {text}"),
                    });
                }
            }
        }
        Ok(hotspots)
    })
}

/// The score over time, one point per snapshot, on the 0-3 scale, across the whole `window`
/// (from, until) whatever the points cover, so that the axis reads the range asked for.
pub fn trend(
    title: &str,
    points: &[(DateTime<Utc>, Option<f64>)],
    window: (DateTime<Utc>, DateTime<Utc>),
) -> String {
    // Time runs as seconds since the epoch on the axis, labelled as dates (`date_axis`).
    let seconds = |t: &DateTime<Utc>| t.timestamp() as f64;
    let (from, to) = (
        seconds(&window.0),
        seconds(&window.1).max(seconds(&window.0) + 1.0),
    );
    let date = date_axis(from, to);
    svg(500, 260, title, |root| {
        let known: Vec<(f64, f64)> = points
            .iter()
            .filter_map(|(t, s)| Some((seconds(t), (*s)?)))
            .filter(|(t, _)| (from..=to).contains(t))
            .collect();
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", TITLE).into_font().color(&INK))
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(48)
            .build_cartesian_2d(from..to, 0f64..3f64)
            .map_err(err)?;
        time_mesh(&mut chart, &date, 4, "score (0-3)")?;
        if known.is_empty() {
            root.draw(&Text::new(
                "no snapshot in this range".to_string(),
                (170, 120),
                ("sans-serif", TEXT).into_font().color(&MUTED),
            ))
            .map_err(err)?;
        } else {
            line_with_dots(&mut chart, &known)?;
        }
        Ok(Vec::new())
    })
}

/// How a time axis from `from` to `to` (seconds since the epoch) labels its ticks: dates, with
/// the year past three months and with the hour within two days.
fn date_axis(from: f64, to: f64) -> impl Fn(f64) -> String {
    let day = 86_400.0;
    let format = if to - from > 92.0 * day {
        "%b %Y"
    } else if to - from > 2.0 * day {
        "%b %d"
    } else {
        "%b %d %H:%M"
    };
    #[allow(clippy::cast_possible_truncation)] // whole seconds of a date the axis shows
    move |s: f64| {
        DateTime::<Utc>::from_timestamp(s.round() as i64, 0)
            .map(|t| t.format(format).to_string())
            .unwrap_or_default()
    }
}

/// The grid and axes of a chart over time: dates below (`date`), whole numbers beside.
fn time_mesh(
    chart: &mut TimeChart<'_>,
    date: &dyn Fn(f64) -> String,
    y_labels: usize,
    y_desc: &str,
) -> Result<(), String> {
    chart
        .configure_mesh()
        .bold_line_style(LINE)
        .light_line_style(TRANSPARENT)
        .x_labels(4)
        .y_labels(y_labels)
        .x_label_formatter(&|t| date(*t))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc(y_desc)
        .axis_desc_style(("sans-serif", TEXT).into_font().color(&MUTED))
        .label_style(("sans-serif", TEXT).into_font().color(&INK))
        .draw()
        .map_err(err)
}

/// A chart whose x axis is time in seconds and whose y axis is a number.
type TimeChart<'a> = ChartContext<
    'a,
    SVGBackend<'a>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// A line through `points` in the accent colour, with a dot at each.
fn line_with_dots(chart: &mut TimeChart<'_>, points: &[(f64, f64)]) -> Result<(), String> {
    let accent = RGBColor(0x24, 0x59, 0xc7);
    chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            accent.stroke_width(2),
        ))
        .map_err(err)?;
    chart
        .draw_series(points.iter().map(|p| Circle::new(*p, 3, accent.filled())))
        .map_err(err)?;
    Ok(())
}

/// A campaign's burn-down: the models still short at each point (a line), against the straight
/// line from the first point to none short at the deadline (dashed).
pub fn burn_down(
    title: &str,
    points: &[(DateTime<Utc>, i64)],
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> String {
    let seconds = |t: &DateTime<Utc>| t.timestamp() as f64;
    let last = points
        .last()
        .map_or(seconds(&deadline), |(t, _)| seconds(t));
    let (from, to) = (seconds(&start), seconds(&deadline).max(last));
    let to = to.max(from + 1.0);
    let date = date_axis(from, to);
    let most = points.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let top = most.max(1) as f64;
    let labels = usize::try_from(most.clamp(1, 4)).unwrap_or(4) + 1;
    svg(500, 260, title, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", TITLE).into_font().color(&INK))
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(48)
            .build_cartesian_2d(from..to, 0f64..(top * 1.1))
            .map_err(err)?;
        // Whole models: no more labels than there are counts to show.
        time_mesh(&mut chart, &date, labels, "models short")?;
        let Some((first_at, first)) = points.first() else {
            root.draw(&Text::new(
                "no snapshot since the start yet".to_string(),
                (150, 120),
                ("sans-serif", TEXT).into_font().color(&MUTED),
            ))
            .map_err(err)?;
            return Ok(Vec::new());
        };
        let ideal = [
            (seconds(first_at), *first as f64),
            (seconds(&deadline), 0.0),
        ];
        chart
            .draw_series(DashedLineSeries::new(ideal, 6, 4, MUTED.stroke_width(1)))
            .map_err(err)?;
        let actual: Vec<(f64, f64)> = points
            .iter()
            .map(|(t, n)| (seconds(t), *n as f64))
            .collect();
        line_with_dots(&mut chart, &actual)?;
        Ok(Vec::new())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_labelled_escaped_and_link_their_bars() {
        let counts = Counts {
            levels: [3, 2, 1, 0],
            unknown: 4,
            exempt: 1,
        };
        let svg = distribution("Models <by> level", &counts, |b| {
            format!("/?level={}&x=\"1\"", b.key())
        });
        // Its bars are links: a group, not an image (an image holds no link).
        assert!(svg.starts_with("<svg role=\"group\" aria-label=\"Models &lt;by&gt; level\""));
        assert!(svg.contains("href=\"/?level=0&amp;x=&quot;1&quot;\""));
        // One bar per bucket: the four levels, unknown and exempt.
        assert_eq!(svg.matches("class=\"chart-link\"").count(), 6);
        assert!(svg.contains("href=\"/?level=exempt&amp;x=&quot;1&quot;\""));
        assert!(!svg.contains("<by>"));
        let map = heat_map(
            "Units by domain",
            &["Fairness".into(), "Safety".into()],
            &[(
                "<script>alert(1)</script>".into(),
                vec![Some(1.5), None],
                vec!["/a".into(), "/b".into()],
            )],
        );
        assert!(!map.contains("<script>"));
        let day = |d: i64| DateTime::<Utc>::from_timestamp(1_700_000_000 + d * 86_400, 0).unwrap();
        let burn = burn_down(
            "Models <short>",
            &[(day(0), 10), (day(7), 6)],
            day(0),
            day(30),
        );
        assert!(burn.contains("Models &lt;short&gt;") && !burn.contains("<short>"));
        assert!(burn.contains("stroke-dasharray") || burn.matches("<line").count() > 1);
        assert_eq!(map.matches("class=\"chart-link\"").count(), 2);
    }
}
