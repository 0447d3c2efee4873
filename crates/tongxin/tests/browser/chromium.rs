//! A headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`), with
//! axe-core's WCAG 2.1 A and AA rules run in the pages it visits. A failed scenario keeps a
//! screenshot of where it stood and names the file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// Why a scenario stopped: a step that did not happen, or a page that broke a rule.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

pub type Step<T = ()> = Result<T, Failure>;

/// Stops the scenario with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Step {
    if condition {
        Ok(())
    } else {
        Err(Failure(message()))
    }
}

/// The longest a step waits for the page to show what it expects.
const PATIENCE: Duration = Duration::from_secs(15);

/// The screen a scenario runs on.
#[derive(Debug, Clone, Copy)]
pub enum Screen {
    /// 1366 × 768, a common office screen.
    Desktop,
    /// 375 × 812 CSS pixels, a phone.
    Phone,
}

/// A chromedriver of this test's own on a free loopback port, stopped when dropped.
struct Driver {
    process: Child,
    url: String,
}

impl Driver {
    async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("a free port for chromedriver: {e}"));
        let process = Command::new(program("TONGXIN_CHROMEDRIVER", "chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("chromedriver (Debian's chromium-driver) could not start: {e}")
            });
        let driver = Driver {
            process,
            url: format!("http://127.0.0.1:{port}"),
        };
        let status = format!("{}/status", driver.url);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(reply) = reqwest::get(&status).await
                && reply.status().is_success()
            {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// `$variable` if set, else `default` (found on the PATH).
fn program(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

/// Where `npm ci` in `tests/browser` puts axe-core.
fn axe_source() -> Step<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).map_err(|e| {
        Failure(format!(
            "{}: {e} (install it with `npm ci --prefix crates/tongxin/tests/browser`)",
            path.display()
        ))
    })
}

/// Runs axe-core in the page and hands back its violations, briefly.
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
  .then(found => done(found.violations.map(v => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    where: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + n.failureSummary),
  }))))
  .catch(e => done([{ rule: "axe-error", help: String(e) }]));
"#;

/// Measures the focused element's outline against the first opaque background behind it.
const FOCUS_RING: &str = r#"
const focused = document.activeElement;
const ring = getComputedStyle(focused);
const luminance = (colour) => {
  const [r, g, b] = colour.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
let behind = "rgb(255, 255, 255)";
for (let e = focused.parentElement; e; e = e.parentElement) {
  const colour = getComputedStyle(e).backgroundColor;
  if (colour !== "transparent" && !colour.startsWith("rgba(0, 0, 0, 0)")) { behind = colour; break; }
}
const [a, b] = [luminance(ring.outlineColor), luminance(behind)];
return [ring.outlineStyle, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
"#;

/// A browser window on the server under test.
pub struct Chromium {
    client: Client,
    base: String,
    _driver: Driver,
}

impl Chromium {
    /// A fresh browser (no cookies) on `screen`, pointed at the server at `base`.
    pub async fn open(base: &str, screen: Screen) -> Chromium {
        let driver = Driver::start().await;
        let mut args = vec![
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--lang=zh-CN",
        ];
        let mut options = json!({ "binary": program("TONGXIN_CHROMIUM", "/usr/bin/chromium") });
        match screen {
            Screen::Desktop => args.push("--window-size=1366,768"),
            Screen::Phone => {
                options["mobileEmulation"] = json!({
                    "deviceMetrics": { "width": 375, "height": 812, "pixelRatio": 2.0, "touch": true, "mobile": true }
                });
            }
        }
        options["args"] = json!(args);
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("a Chromium session: {e}"));
        Chromium {
            client,
            base: base.trim_end_matches('/').to_owned(),
            _driver: driver,
        }
    }

    /// Ends the scenario: on failure, keeps a screenshot and fails the test naming it.
    pub async fn conclude(self, scenario: &str, outcome: Step) {
        let kept = match &outcome {
            Ok(()) => None,
            Err(_) => Some(self.keep_screenshot(scenario).await),
        };
        let _ = self.client.close().await;
        if let Err(Failure(why)) = outcome {
            panic!(
                "{scenario}: {why}\nscreenshot: {}",
                kept.map(|p| p.display().to_string()).unwrap_or_default()
            );
        }
    }

    async fn keep_screenshot(&self, scenario: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-failures");
        let path = dir.join(format!("{scenario}.png"));
        let written = match self.client.screenshot().await {
            Ok(png) => std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, png)),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        };
        match written {
            Ok(()) => path,
            Err(e) => PathBuf::from(format!("(none: {e})")),
        }
    }

    pub async fn goto(&self, path: &str) -> Step {
        Ok(self.client.goto(&format!("{}{path}", self.base)).await?)
    }

    /// The path and query of the page shown.
    pub async fn location(&self) -> Step<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// The element `css` selects, once the page shows it.
    pub async fn find(&self, css: &str) -> Step<Element> {
        let found = self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => Ok(element),
            Err(e) => Err(Failure(format!("no `{css}` on {}: {e}", self.here().await))),
        }
    }

    pub async fn find_all(&self, css: &str) -> Step<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    /// The texts of every element `css` selects, in page order; read again if the page is
    /// replaced while they are read.
    pub async fn texts(&self, css: &str) -> Step<Vec<String>> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let read = async {
                let mut texts = Vec::new();
                for element in self.find_all(css).await? {
                    texts.push(element.text().await?);
                }
                Ok::<_, Failure>(texts)
            };
            match read.await {
                Ok(texts) => return Ok(texts),
                Err(failure) if Instant::now() >= deadline => return Err(failure),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Types `text` into the field `css` selects, after clearing it.
    pub async fn fill(&self, css: &str, text: &str) -> Step {
        let field = self.find(css).await?;
        field.clear().await?;
        Ok(field.send_keys(text).await?)
    }

    pub async fn click(&self, css: &str) -> Step {
        Ok(self.find(css).await?.click().await?)
    }

    /// Presses `key` in whatever has the focus.
    pub async fn press(&self, key: Key) -> Step {
        let focused = self.client.active_element().await?;
        Ok(focused.send_keys(&key.to_string()).await?)
    }

    /// The focused element's outer HTML, to say where the focus is.
    pub async fn focused(&self) -> Step<String> {
        Ok(self.client.active_element().await?.html(false).await?)
    }

    /// Waits until the page's visible text contains `text`. A page being replaced meanwhile
    /// (its body gone stale under a navigation) is read again.
    pub async fn wait_for_text(&self, text: &str) -> Step {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let shown = self.body_text().await.unwrap_or_default();
            if shown.contains(text) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Failure(format!(
                    "“{text}” did not appear on {}; the page reads: {shown}",
                    self.here().await
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn body_text(&self) -> Step<String> {
        Ok(self.client.find(Locator::Css("body")).await?.text().await?)
    }

    /// Logs in through the login page as `username`.
    pub async fn log_in(&self, username: &str, password: &str) -> Step {
        self.fill("#username", username).await?;
        self.fill("#password", password).await?;
        self.click("button.primary[type=submit]").await?;
        self.arrive_where(|at| !at.starts_with("/login"))
            .await
            .map(drop)
    }

    /// Waits until the address shown satisfies `wanted`, and returns it.
    pub async fn arrive_where(&self, wanted: impl Fn(&str) -> bool) -> Step<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let at = self.location().await?;
            if wanted(&at) {
                return Ok(at);
            }
            if Instant::now() >= deadline {
                return Err(Failure(format!("still at {at} after {PATIENCE:?}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs axe-core's WCAG 2.1 A and AA rules on the page; any violation fails.
    pub async fn check_accessibility(&self) -> Step {
        self.client.execute(&axe_source()?, Vec::new()).await?;
        let found = self.client.execute_async(AXE_RUN, Vec::new()).await?;
        let Some(violations) = found.as_array().cloned() else {
            return Err(Failure(format!("axe-core did not run: {found}")));
        };
        let page = self.here().await;
        ensure(violations.is_empty(), || {
            format!(
                "axe-core: {} WCAG 2.1 A/AA violation(s) on {page}:\n{}",
                violations.len(),
                serde_json::to_string_pretty(&Value::Array(violations.clone())).unwrap_or_default()
            )
        })
    }

    /// The contrast ratio (WCAG) of the focused element's outline against the background
    /// around it, and the outline's style: a focus ring must stand out at 3:1 at least.
    pub async fn focus_ring_contrast(&self) -> Step<(String, f64)> {
        let found = self.client.execute(FOCUS_RING, Vec::new()).await?;
        let style = found[0].as_str().unwrap_or_default().to_owned();
        let ratio = found[1].as_f64().unwrap_or_default();
        Ok((style, ratio))
    }

    /// Whether the page is wider than the screen (scrolls sideways).
    pub async fn scrolls_sideways(&self) -> Step<bool> {
        let wide = self
            .client
            .execute(
                "return document.documentElement.scrollWidth > window.innerWidth;",
                Vec::new(),
            )
            .await?;
        Ok(wide.as_bool().unwrap_or(true))
    }

    async fn here(&self) -> String {
        self.location().await.unwrap_or_else(|Failure(e)| e)
    }
}
