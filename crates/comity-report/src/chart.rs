//! Charts as SVG, drawn with `plotters`: a monthly series, outcomes by act, and the rules
//! that decided. Each returns the SVG text, to be placed in an HTML page as it is (plotters
//! escapes the text it writes).

use std::collections::{BTreeMap, BTreeSet};

use comity_model::Outcome;
use plotters::prelude::*;

/// Width and height of every chart, in pixels.
const SIZE: (u32, u32) = (760, 340);

/// The colour and legend word of each outcome (the legend says it in words, so colour is
/// never the only signal).
fn outcome_style(outcome: Outcome) -> (RGBColor, &'static str) {
    match outcome {
        Outcome::Required => (RGBColor(0x1b, 0x78, 0x37), "required"),
        Outcome::Permitted => (RGBColor(0x21, 0x66, 0xac), "permitted"),
        Outcome::Forbidden => (RGBColor(0xb2, 0x18, 0x2b), "forbidden"),
    }
}

/// Runs `draw` on an SVG drawing area and returns the SVG; a drawing error becomes a short
/// SVG that says so rather than a missing chart.
fn svg(
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> String {
    let mut text = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    match drawn {
        Ok(()) => text,
        Err(e) => format!("<p>The chart could not be drawn: {e}</p>"),
    }
}

/// Lines of monthly counts (`YYYY-MM` → count), one per named series, over every month any
/// series has.
pub fn monthly(title: &str, series: &[(String, BTreeMap<String, u64>)]) -> String {
    let months: Vec<&String> = series
        .iter()
        .flat_map(|(_, m)| m.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let top = series
        .iter()
        .flat_map(|(_, m)| m.values())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    svg(|root| {
        let last = months.len().saturating_sub(1).max(1);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .margin_right(36)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0..last, 0..top + top / 4 + 1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_labels(months.len().min(12))
            .x_label_formatter(&|i| months.get(*i).map(|m| m.to_string()).unwrap_or_default())
            .y_desc("requests")
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, (name, counts)) in series.iter().enumerate() {
            let colour = Palette99::pick(k).to_rgba();
            let points = months
                .iter()
                .enumerate()
                .map(|(i, m)| (i, counts.get(*m).copied().unwrap_or(0)));
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())
    })
}

/// Bars of each act's outcomes, side by side per act.
pub fn outcomes(title: &str, counts: &[(String, Outcome, u64)]) -> String {
    let acts: Vec<&String> = counts
        .iter()
        .map(|(a, _, _)| a)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let order = [Outcome::Required, Outcome::Permitted, Outcome::Forbidden];
    let top = counts.iter().map(|c| c.2).max().unwrap_or(0).max(1);
    svg(|root| {
        let width = acts.len() as f64 * 4.0;
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..width.max(4.0), 0..top + top / 10 + 1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(acts.len() * 4 + 1)
            .x_label_formatter(&|x| {
                let slot = x / 4.0;
                let centre = (slot.fract() - 0.5).abs() < 0.13;
                match acts.get(slot as usize) {
                    Some(act) if centre => act.to_string(),
                    _ => String::new(),
                }
            })
            .y_desc("requests")
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, outcome) in order.into_iter().enumerate() {
            let (colour, word) = outcome_style(outcome);
            let bars = acts.iter().enumerate().filter_map(|(i, act)| {
                let n = counts
                    .iter()
                    .find(|(a, o, _)| a == *act && *o == outcome)?
                    .2;
                let x = i as f64 * 4.0 + 0.5 + k as f64;
                Some(Rectangle::new([(x, 0), (x + 0.9, n)], colour.filled()))
            });
            chart
                .draw_series(bars)
                .map_err(|e| e.to_string())?
                .label(word)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())
    })
}

/// Horizontal bars: each label with its count, largest first (at most 12).
pub fn ranked(title: &str, items: &[(String, u64)]) -> String {
    let mut items: Vec<&(String, u64)> = items.iter().collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    items.truncate(12);
    let top = items.first().map(|i| i.1).unwrap_or(0).max(1);
    svg(|root| {
        let rows = items.len().max(1);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(330)
            .build_cartesian_2d(0..top + top / 10 + 1, 0.0..rows as f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows * 2 + 1)
            .y_label_formatter(&|y| {
                let centre = (y.fract() - 0.5).abs() < 0.13;
                match items.get(rows - 1 - (*y as usize).min(rows - 1)) {
                    Some((label, _)) if centre => shorten(label, 52),
                    _ => String::new(),
                }
            })
            .x_desc("requests")
            .draw()
            .map_err(|e| e.to_string())?;
        let colour = RGBColor(0x4d, 0x4d, 0x4d);
        chart
            .draw_series(items.iter().enumerate().map(|(i, (_, n))| {
                let y = (rows - 1 - i) as f64;
                Rectangle::new([(0, y + 0.15), (*n, y + 0.85)], colour.filled())
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}
