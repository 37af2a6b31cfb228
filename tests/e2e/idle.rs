//! The resident app's idle cost with its window closed: CPU and memory of
//! the app process and any web-view processes. A measurement, not a test:
//! run it with
//! `cargo test --test e2e idle -- --ignored --nocapture`
//! and record the figures in docs/benchmarks.md.

use std::time::{Duration, Instant};

use crate::harness::{App, Result, app_binary, bounded, step};
use crate::shell::wait_for_log;

/// CPU ticks (user + system) and resident memory (kB) of a process.
fn sample(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches(" kB")
        .parse()
        .ok()?;
    Some((ticks, rss))
}

/// Processes whose executable is the app, and the web-view processes.
fn processes() -> (Vec<u32>, Vec<(u32, String)>) {
    let app = app_binary();
    let mut apps = Vec::new();
    let mut webviews = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let exe = std::fs::read_link(entry.path().join("exe")).ok();
        if exe.as_deref() == Some(app.as_path()) {
            apps.push(pid);
        } else if let Some(name) = exe
            .as_ref()
            .and_then(|e| e.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| n.starts_with("WebKit") && n != "WebKitWebDriver")
        {
            webviews.push((pid, name));
        }
    }
    (apps, webviews)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement: run it by hand and record the figures"]
async fn idle_cost_of_the_resident_app_with_its_window_closed() -> Result {
    bounded(measure()).await
}

async fn measure() -> Result {
    let dir = tempfile::tempdir()?;
    let app = App::launch(dir.path()).await?;
    app.element("#nav").await?;
    let (apps, webviews) = processes();
    let open_rss: u64 = apps
        .iter()
        .chain(webviews.iter().map(|(p, _)| p))
        .filter_map(|&p| sample(p).map(|s| s.1))
        .sum();
    step(&format!(
        "window open: {} kB resident (app and web view)",
        open_rss
    ));
    for _ in 0..10 {
        app.desktop.request_close("Blastdesk")?;
        if wait_for_log(
            dir.path(),
            "window closed; staying in the tray",
            Duration::from_secs(3),
        )
        .is_ok()
        {
            break;
        }
    }
    // Let the web view's processes wind down.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (apps, webviews) = processes();
    let pid = *apps.first().ok_or("the app is not running")?;
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let (start_ticks, _) = sample(pid).ok_or("cannot read the app's stats")?;
    let started = Instant::now();
    let window = Duration::from_secs(60);
    tokio::time::sleep(window).await;
    let (end_ticks, rss) = sample(pid).ok_or("cannot read the app's stats")?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = (end_ticks - start_ticks) as f64 / ticks_per_second / seconds * 100.0;
    let webview_rss: u64 = webviews
        .iter()
        .filter_map(|(p, _)| sample(*p).map(|s| s.1))
        .sum();
    println!(
        "idle, window closed, {seconds:.0} s: app CPU {cpu:.2}% of one core, app RSS {rss} kB, web-view processes {} ({webview_rss} kB); window open: {open_rss} kB",
        webviews.len()
    );
    Ok(())
}
