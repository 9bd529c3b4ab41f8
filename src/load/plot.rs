//! The two pictures of a load report, as inline SVG (drawn by plotters):
//! latency over the run (p50, p99 and max of each second, with the p99
//! threshold), and requests and failures started each second.

use plotters::prelude::*;

use super::stats::Stats;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 340;
/// Colours apart from the page's pass/fail/warn, so each line reads on its own.
pub const P50: RGBColor = RGBColor(0x17, 0x5c, 0xd3);
pub const P99: RGBColor = RGBColor(0x7c, 0x3a, 0xed);
pub const MAX: RGBColor = RGBColor(0x98, 0xa2, 0xb3);
pub const THRESHOLD: RGBColor = RGBColor(0xb4, 0x23, 0x18);
pub const REQUESTS: RGBColor = RGBColor(0x06, 0x76, 0x47);
pub const ERRORS: RGBColor = RGBColor(0xb4, 0x23, 0x18);

/// Latency (ms) of each second against the seconds since the start.
pub fn latency(stats: &Stats, p99_threshold_ms: f64) -> String {
    let timeline = stats.latency_over_time();
    let seconds = timeline.last().map_or(1, |s| s.second + 1).max(1) as f64;
    let top = timeline
        .iter()
        .map(|s| s.max)
        .fold(p99_threshold_ms, f64::max)
        * 1.1;
    // The max first and wider: a second of few requests has its max at its
    // p99, and a max of the same width would hide under it; wider, it shows
    // as a grey edge around the p99 there, and alone where they differ.
    let series = [
        (
            "max",
            MAX,
            timeline
                .iter()
                .map(|s| (s.second as f64, s.max))
                .collect::<Vec<_>>(),
        ),
        (
            "p99",
            P99,
            timeline.iter().map(|s| (s.second as f64, s.p99)).collect(),
        ),
        (
            "p50",
            P50,
            timeline.iter().map(|s| (s.second as f64, s.p50)).collect(),
        ),
        (
            "p99 threshold",
            THRESHOLD,
            vec![(0.0, p99_threshold_ms), (seconds, p99_threshold_ms)],
        ),
    ];
    draw(
        "latency of the requests, by the second they were scheduled (log scale)",
        "latency (ms)",
        seconds,
        top,
        &series,
        true,
    )
}

/// Requests and failures started in each second.
pub fn throughput(stats: &Stats) -> String {
    let seconds = stats.per_second.len().max(1) as f64;
    let top = stats.per_second.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
    let points = |values: &[u64]| {
        values
            .iter()
            .enumerate()
            .map(|(s, n)| (s as f64, *n as f64))
            .collect::<Vec<_>>()
    };
    let series = [
        ("requests", REQUESTS, points(&stats.per_second)),
        ("failed", ERRORS, points(&stats.errors_per_second)),
    ];
    draw(
        "requests started each second (cleanup aside)",
        "requests",
        seconds,
        top,
        &series,
        false,
    )
}

type Series = (&'static str, RGBColor, Vec<(f64, f64)>);

/// Latency spans orders of magnitude (a 2 ms p50 beside a 1 s threshold):
/// on a log scale both read; counts go on a linear one.
fn draw(
    caption: &str,
    y_label: &str,
    seconds: f64,
    top: f64,
    series: &[Series],
    log: bool,
) -> String {
    let mut svg = String::new();
    let drawn = (|| -> Result<(), String> {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(caption, ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64);
        if log {
            let bottom = series
                .iter()
                .flat_map(|(_, _, points)| points.iter().map(|(_, y)| *y))
                .fold(top, f64::min)
                .max(0.01)
                / 2.0;
            let chart = builder
                .build_cartesian_2d(0f64..seconds, (bottom..top).log_scale())
                .map_err(|e| e.to_string())?;
            lines(chart, y_label, series)?;
        } else {
            let chart = builder
                .build_cartesian_2d(0f64..seconds, 0f64..top)
                .map_err(|e| e.to_string())?;
            lines(chart, y_label, series)?;
        }
        root.present().map_err(|e| e.to_string())?;
        Ok(())
    })();
    match drawn {
        Ok(()) => svg,
        // Drawing on a string cannot fail but for a bug: told, not hidden.
        Err(e) => format!(
            "<p>scimcheck could not draw this plot: {}</p>",
            minijinja::HtmlEscape(&e)
        ),
    }
}

/// The mesh, a line per series, and the legend.
fn lines<'a, Y>(
    mut chart: ChartContext<
        'a,
        SVGBackend<'a>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, Y>,
    >,
    y_label: &str,
    series: &[Series],
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    {
        chart
            .configure_mesh()
            .x_desc("seconds since the start")
            .y_desc(y_label)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| e.to_string())?;
        for (label, colour, points) in series {
            let colour = *colour;
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(if *label == "max" { 5 } else { 2 }),
                ))
                .map_err(|e| e.to_string())?
                .label(*label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.2))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::stats::{Op, Outcome};
    use std::time::Duration;

    #[test]
    fn the_plots_are_svg_with_a_line_per_series() {
        let mut stats = Stats::default();
        for second in 0..5 {
            for ms in [5, 10, 400] {
                stats.record(
                    Op::Match,
                    second,
                    &Outcome {
                        status: Some(if ms == 400 { 500 } else { 200 }),
                        throttled: 0,
                        throttled_without_retry_after: 0,
                        latency: Duration::from_millis(ms),
                    },
                );
            }
        }
        let latency = latency(&stats, 1000.0);
        assert!(latency.starts_with("<svg"), "{}", &latency[..80]);
        assert!(latency.contains("p99 threshold") && latency.contains("latency (ms)"));
        // One polyline per series, in its own colour.
        // Each series: its line, and its mark in the legend.
        for colour in ["#175CD3", "#7C3AED", "#98A2B3", "#B42318"] {
            let lines = latency
                .matches(&format!("stroke=\"{colour}\" stroke-width="))
                .count();
            assert_eq!(lines, 2, "{colour}");
        }
        // The max is drawn under the p99 and wider, so that neither hides the other.
        let p99_line = latency.find(&format!("stroke=\"{}\" stroke-width=\"2\"", hex(P99)));
        let max_line = latency.find(&format!("stroke=\"{}\" stroke-width=\"5\"", hex(MAX)));
        assert!(
            p99_line.is_some() && max_line.is_some() && max_line < p99_line,
            "{p99_line:?} {max_line:?}"
        );
        let throughput = throughput(&stats);
        assert!(throughput.contains("#067647") && throughput.contains("failed"));
    }

    fn hex(colour: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2)
    }
}
