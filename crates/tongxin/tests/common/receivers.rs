//! Real receivers on loopback ports for the sending tests: an HTTP server that checks each
//! robot's signature the way WeCom, DingTalk and Feishu document it (and a webhook's HMAC), and
//! a minimal SMTP server that keeps every message it is given.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The secret every signing robot of the tests is set up with.
pub const SECRET: &str = "SECtest0123456789";

/// One message a receiver accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// `wecom`, `dingtalk`, `feishu` or `webhook`.
    pub kind: String,
    pub text: String,
    /// The webhook's `Idempotency-Key`.
    pub key: Option<String>,
}

#[derive(Clone, Default)]
struct Inbox(Arc<Mutex<Vec<Received>>>);

/// An HTTP receiver: `/wecom`, `/dingtalk`, `/feishu` and `/hook` accept what is signed with
/// [`SECRET`] (a wrong signature gets the robot's own refusal), `/fail` answers 500 and
/// `/silent` never answers.
pub struct Robots {
    pub addr: SocketAddr,
    inbox: Inbox,
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn wecom(State(inbox): State<Inbox>, body: Bytes) -> (StatusCode, String) {
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let text = body["text"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    inbox.0.lock().unwrap().push(Received {
        kind: "wecom".into(),
        text,
        key: None,
    });
    (
        StatusCode::OK,
        json!({ "errcode": 0, "errmsg": "ok" }).to_string(),
    )
}

async fn dingtalk(
    State(inbox): State<Inbox>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    body: Bytes,
) -> (StatusCode, String) {
    let timestamp = query.get("timestamp").cloned().unwrap_or_default();
    let expected = b64(&hmac(
        SECRET.as_bytes(),
        format!("{timestamp}\n{SECRET}").as_bytes(),
    ));
    if query.get("sign") != Some(&expected) || !query.contains_key("access_token") {
        return (
            StatusCode::OK,
            json!({ "errcode": 310000, "errmsg": "sign not match" }).to_string(),
        );
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    inbox.0.lock().unwrap().push(Received {
        kind: "dingtalk".into(),
        text: body["text"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        key: None,
    });
    (
        StatusCode::OK,
        json!({ "errcode": 0, "errmsg": "ok" }).to_string(),
    )
}

async fn feishu(State(inbox): State<Inbox>, body: Bytes) -> (StatusCode, String) {
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let timestamp = body["timestamp"].as_str().unwrap_or_default();
    let expected = b64(&hmac(format!("{timestamp}\n{SECRET}").as_bytes(), b""));
    if body["sign"].as_str() != Some(expected.as_str()) {
        return (
            StatusCode::OK,
            json!({ "code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time" }).to_string(),
        );
    }
    inbox.0.lock().unwrap().push(Received {
        kind: "feishu".into(),
        text: body["content"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        key: None,
    });
    (
        StatusCode::OK,
        json!({ "code": 0, "msg": "success" }).to_string(),
    )
}

async fn hook(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut signed = header("x-tongxin-timestamp").into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(&body);
    let expected = format!("sha256={}", hex::encode(hmac(SECRET.as_bytes(), &signed)));
    if header("x-tongxin-signature") != expected {
        return StatusCode::UNAUTHORIZED;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    inbox.0.lock().unwrap().push(Received {
        kind: "webhook".into(),
        text: body["text"].as_str().unwrap_or_default().to_owned(),
        key: Some(header("idempotency-key")),
    });
    StatusCode::NO_CONTENT
}

impl Robots {
    pub async fn start() -> Robots {
        let inbox = Inbox::default();
        let app = Router::new()
            .route("/wecom", post(wecom))
            .route("/dingtalk", post(dingtalk))
            .route("/feishu", post(feishu))
            .route("/hook", post(hook))
            .route(
                "/fail",
                post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
            )
            .route("/silent", post(std::future::pending::<StatusCode>))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Robots { addr, inbox }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.0.lock().unwrap().clone()
    }
}

/// One message the SMTP sink was given.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    /// Headers and body as sent.
    pub data: String,
}

/// A minimal SMTP server (no TLS, no login) that keeps what it is given.
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let kept = mails.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ready\r\n").await;
                    let mut to = Vec::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") {
                            b"250-sink\r\n250 8BITMIME\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                            b"250 ok\r\n"
                        } else if upper.starts_with("DATA") {
                            let _ = write.write_all(b"354 go on\r\n").await;
                            let mut data = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                data.push_str(&line);
                                data.push('\n');
                            }
                            kept.lock().unwrap().push(Mail {
                                to: std::mem::take(&mut to),
                                data,
                            });
                            b"250 queued\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 ok\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SmtpSink { port, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// The settings that send mail here.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TONGXIN_SMTP_HOST", "127.0.0.1".to_owned()),
            ("TONGXIN_SMTP_PORT", self.port.to_string()),
            ("TONGXIN_SMTP_SECURITY", "none".to_owned()),
            ("TONGXIN_SMTP_FROM", "同心 <tongxin@example.org>".to_owned()),
        ]
    }
}
