//! Charts as inline SVG, drawn with plotters' SVG backend (no fonts loaded: plotters'
//! built-in text estimate places the labels, the browser renders them). Every chart sits next
//! to a table with the same numbers, so the SVG is labelled as an image and the table is what
//! screen readers read.

use plotters::prelude::*;

/// At most this many bars: the table beside it lists everything.
pub const MAX_BARS: usize = 20;

const SIZE: (u32, u32) = (760, 320);
const BAR: RGBColor = RGBColor(0x2f, 0x6f, 0xb3);
const LINE: RGBColor = RGBColor(0xb3, 0x3a, 0x2f);

/// One bar per (label, value), in the given order; `unit` names the y axis.
pub fn bars(title: &str, unit: &str, data: &[(String, f64)]) -> String {
    let data = &data[..data.len().min(MAX_BARS)];
    let mut svg = String::new();
    let drawn = draw_bars(&mut svg, unit, data);
    finish(svg, drawn, title)
}

fn draw_bars(svg: &mut String, unit: &str, data: &[(String, f64)]) -> Result<(), String> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = data.len().max(1);
    let top = data.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(70)
        .y_label_area_size(60)
        .build_cartesian_2d((0..n).into_segmented(), 0.0..top)
        .map_err(|e| e.to_string())?;
    let label = |x: &SegmentValue<usize>| match x {
        SegmentValue::CenterOf(i) => data.get(*i).map(|(l, _)| short(l)).unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&label)
        .x_label_style(
            ("sans-serif", 11)
                .into_font()
                .transform(FontTransform::Rotate90),
        )
        .y_desc(unit)
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(data.iter().enumerate().map(|(i, (_, v))| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), *v),
                ],
                BAR.filled(),
            );
            bar.set_margin(0, 0, 6, 6);
            bar
        }))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// A line over (x label, value) points, with a dashed reference level (100 % of a budget).
pub fn line(title: &str, unit: &str, points: &[(String, f64)], reference: Option<f64>) -> String {
    let mut svg = String::new();
    let drawn = draw_line(&mut svg, unit, points, reference);
    finish(svg, drawn, title)
}

fn draw_line(
    svg: &mut String,
    unit: &str,
    points: &[(String, f64)],
    reference: Option<f64>,
) -> Result<(), String> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = points.len().max(2);
    let top = points
        .iter()
        .map(|(_, v)| *v)
        .chain(reference)
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0..n - 1, 0.0..top)
        .map_err(|e| e.to_string())?;
    let label = |i: &usize| points.get(*i).map(|(l, _)| l.clone()).unwrap_or_default();
    chart
        .configure_mesh()
        .x_labels(8)
        .x_label_formatter(&label)
        .y_desc(unit)
        .draw()
        .map_err(|e| e.to_string())?;
    if let Some(r) = reference {
        chart
            .draw_series(DashedLineSeries::new(
                [(0, r), (n - 1, r)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
    }
    let finite = |v: f64| if v.is_finite() { v } else { top };
    chart
        .draw_series(LineSeries::new(
            points.iter().enumerate().map(|(i, (_, v))| (i, finite(*v))),
            LINE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Labels longer than this are cut on the axis (the table has them whole).
fn short(s: &str) -> String {
    const MAX: usize = 16;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX - 1).collect::<String>())
    }
}

/// Marks the SVG as an image named `title` and lets it shrink with the page.
fn finish(svg: String, drawn: Result<(), String>, title: &str) -> String {
    if let Err(e) = drawn {
        tracing::warn!(error = %e, "chart not drawn");
        return String::new();
    }
    let attrs = format!(
        "<svg role=\"img\" aria-label=\"{}\" class=\"chart\" style=\"max-width:100%;height:auto\" ",
        escape(title)
    );
    svg.replacen("<svg ", &attrs, 1)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_chart_is_an_svg_with_one_rect_per_bar() {
        let data = vec![("sev0".to_string(), 3.0), ("sev1 & <x>".to_string(), 5.0)];
        let svg = bars("Incidents by \"severity\"", "incidents", &data);
        assert!(
            svg.starts_with("<svg role=\"img\" aria-label=\"Incidents by &quot;severity&quot;\"")
        );
        // The background plus two bars.
        assert!(svg.matches("<rect").count() >= 3, "{svg}");
        assert!(!svg.contains("<x>"), "labels are escaped");
        let line = line(
            "Burn",
            "%",
            &[("d1".into(), 10.0), ("d2".into(), 50.0)],
            Some(100.0),
        );
        assert!(
            line.contains("<polyline") || line.contains("<path"),
            "{line}"
        );
    }
}
