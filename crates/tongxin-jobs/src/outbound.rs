//! Sending out of the platform: e-mail over SMTP (`lettre`), the group robots of WeCom,
//! DingTalk and Feishu, and generic webhooks signed with HMAC-SHA256.
//!
//! Every address is checked before anything is sent: it must be http(s), and unless the
//! administrator allowed internal targets, no address it resolves to may be loopback, private
//! or link-local (checked again at each send, and redirects are not followed, so a public name
//! cannot be pointed inward later). Each delivery carries an idempotency key: a webhook's
//! `Idempotency-Key` header, an e-mail's `Message-ID`.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};
use sha2::Sha256;
use tongxin_core::{Field, Invalid, Reason, Timestamp};
use tongxin_store::{ChannelKind, ChannelTarget};

/// How long one send may take before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailSecurity {
    /// Plain connection upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

impl MailSecurity {
    pub fn parse(text: &str) -> Option<MailSecurity> {
        match text {
            "starttls" => Some(MailSecurity::StartTls),
            "tls" => Some(MailSecurity::Tls),
            "none" => Some(MailSecurity::None),
            _ => None,
        }
    }
}

/// The mail server, from configuration.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    /// User name and password for `AUTH`, if the server wants a login.
    pub login: Option<(String, String)>,
    /// The sender, `同心 <tongxin@example.org>`.
    pub from: String,
}

/// Where and how the platform sends.
#[derive(Debug, Clone, Default)]
pub struct OutboundSettings {
    pub mail: Option<MailSettings>,
    /// Whether addresses inside the network may be sent to (an intranet system's webhook).
    pub allow_internal: bool,
    /// The address users reach the platform at, for links in messages.
    pub public_url: Option<String>,
}

/// The senders, built once.
pub struct Outbound {
    settings: OutboundSettings,
    http: reqwest::Client,
}

fn unreachable(field: &'static str, detail: impl std::fmt::Display) -> Invalid {
    Invalid::new(
        Field::Named(field),
        Reason::Unreachable {
            detail: detail.to_string(),
        },
    )
}

impl Outbound {
    pub fn new(settings: OutboundSettings) -> Result<Outbound, String> {
        use_ring_for_tls();
        let http = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tongxin/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the HTTP client cannot start: {e}"))?;
        Ok(Outbound { settings, http })
    }

    pub fn settings(&self) -> &OutboundSettings {
        &self.settings
    }

    /// `path` of the platform as a whole address, when the public address is known.
    pub fn link(&self, path: &str) -> String {
        match &self.settings.public_url {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => path.to_owned(),
        }
    }

    /// Refuses an address that is not http(s), or that leads inside the network when that is
    /// not allowed.
    pub async fn check_target(&self, url: &str) -> Result<reqwest::Url, Invalid> {
        let bad = || Invalid::new(Field::Named("url"), Reason::UrlFormat);
        let parsed = reqwest::Url::parse(url.trim()).map_err(|_| bad())?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad());
        }
        let host = parsed.host_str().ok_or_else(bad)?.to_owned();
        if self.settings.allow_internal {
            return Ok(parsed);
        }
        let port = parsed.port_or_known_default().unwrap_or(443);
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| unreachable("url", format!("{host}: {e}")))?
                .map(|a| a.ip())
                .collect(),
        };
        if addresses.is_empty() || addresses.iter().any(|ip| internal(*ip)) {
            return Err(Invalid::new(Field::Named("url"), Reason::InternalTarget));
        }
        Ok(parsed)
    }

    /// Sends `text` to a robot or webhook; `key` identifies this delivery (a webhook gets it
    /// as `Idempotency-Key`), `link` and `params` go to webhooks whole.
    pub async fn send_to_channel(
        &self,
        target: &ChannelTarget,
        now: Timestamp,
        key: &str,
        text: &str,
        extra: &Value,
    ) -> Result<(), Invalid> {
        let mut url = self.check_target(&target.url).await?;
        let secret = target.secret.clone().unwrap_or_default();
        let request = match target.kind {
            ChannelKind::WeCom => self
                .http
                .post(url)
                .json(&json!({ "msgtype": "text", "text": { "content": text } })),
            ChannelKind::DingTalk => {
                let millis = now.micros() / 1_000;
                let sign = base64_hmac(secret.as_bytes(), format!("{millis}\n{secret}").as_bytes());
                url.query_pairs_mut()
                    .append_pair("timestamp", &millis.to_string())
                    .append_pair("sign", &sign);
                self.http
                    .post(url)
                    .json(&json!({ "msgtype": "text", "text": { "content": text } }))
            }
            ChannelKind::Feishu => {
                let seconds = now.unix_seconds();
                // Feishu signs with "timestamp\nsecret" as the key of an empty message.
                let sign = base64_hmac(format!("{seconds}\n{secret}").as_bytes(), b"");
                self.http.post(url).json(&json!({
                    "timestamp": seconds.to_string(),
                    "sign": sign,
                    "msg_type": "text",
                    "content": { "text": text },
                }))
            }
            ChannelKind::Webhook => {
                let seconds = now.unix_seconds();
                let body = json!({
                    "id": key,
                    "text": text,
                    "sent_at": now.rfc3339(),
                    "event": extra,
                })
                .to_string();
                let signature = hex_hmac(secret.as_bytes(), format!("{seconds}.{body}").as_bytes());
                self.http
                    .post(url)
                    .header("Content-Type", "application/json")
                    .header("Idempotency-Key", key)
                    .header("X-Tongxin-Timestamp", seconds.to_string())
                    .header("X-Tongxin-Signature", format!("sha256={signature}"))
                    .body(body)
            }
        };
        let reply = request
            .send()
            .await
            .map_err(|e| unreachable("url", describe(&e)))?;
        let status = reply.status();
        let body = reply.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(unreachable("url", format!("HTTP {status} {}", clip(&body))));
        }
        if target.kind == ChannelKind::Webhook {
            return Ok(());
        }
        // The robots answer 200 with their own error code.
        let answer: Value = serde_json::from_str(&body).unwrap_or_default();
        let code = answer
            .get("errcode")
            .or_else(|| answer.get("code"))
            .or_else(|| answer.get("StatusCode"))
            .and_then(Value::as_i64);
        match code {
            Some(0) => Ok(()),
            _ => {
                let message = answer
                    .get("errmsg")
                    .or_else(|| answer.get("msg"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Err(unreachable(
                    "url",
                    format!(
                        "{} {message}",
                        code.map(|c| c.to_string()).unwrap_or_else(|| clip(&body))
                    ),
                ))
            }
        }
    }

    /// Sends an e-mail; `key` becomes its `Message-ID`, so a receiver can drop a second copy.
    pub async fn send_mail(
        &self,
        to: &str,
        subject: &str,
        body: &str,
        key: &str,
    ) -> Result<(), Invalid> {
        let Some(mail) = &self.settings.mail else {
            return Err(unreachable(
                "email",
                "no mail server is configured (TONGXIN_SMTP_HOST)",
            ));
        };
        let from = mail
            .from
            .parse()
            .map_err(|e| unreachable("email", format!("sender {:?}: {e}", mail.from)))?;
        let to = parse_address(to)?
            .parse()
            .map_err(|_| Invalid::new(Field::Named("email"), Reason::EmailFormat))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{key}@tongxin>")))
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| unreachable("email", e))?;
        let builder = match mail.security {
            MailSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&mail.host)
                    .map_err(|e| unreachable("email", e))?
            }
            MailSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&mail.host)
                .map_err(|e| unreachable("email", e))?,
            MailSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&mail.host)
            }
        };
        let mut builder = builder.port(mail.port).timeout(Some(SEND_TIMEOUT));
        if let Some((user, password)) = &mail.login {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        builder
            .build()
            .send(message)
            .await
            .map_err(|e| unreachable("email", format!("{}:{}: {e}", mail.host, mail.port)))?;
        Ok(())
    }
}

/// A refused send in words for the jobs page, and whether trying again could help (an
/// address that is malformed or leads inside the network will not get better).
pub fn failure(refused: &Invalid) -> (String, bool) {
    match &refused.reason {
        Reason::Unreachable { detail } => (detail.clone(), true),
        Reason::InternalTarget => ("the address leads inside the network".to_owned(), false),
        Reason::UrlFormat => ("the address is not an http(s) address".to_owned(), false),
        Reason::EmailFormat => ("the e-mail address is malformed".to_owned(), false),
        other => (other.key().to_owned(), false),
    }
}

/// Makes rustls on ring the process's TLS: every HTTP client (ours, and a test's) needs it
/// installed before it is built. Ring builds without the C toolchain aws-lc needs; its lack of
/// post-quantum key exchange (the deprecation) is no loss for a robot's message. Idempotent.
pub fn use_ring_for_tls() {
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Checks an e-mail address and returns it trimmed.
pub fn parse_address(text: &str) -> Result<String, Invalid> {
    let text = text.trim();
    text.parse::<lettre::Address>()
        .map(|_| text.to_owned())
        .map_err(|_| Invalid::new(Field::Named("email"), Reason::EmailFormat))
}

/// Loopback, private, link-local, unspecified or otherwise not on the public internet.
fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // 100.64.0.0/10, shared address space (carrier-grade NAT).
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| internal(IpAddr::V4(v4)))
        }
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: the fallback is never reached.
    let mut mac = <Hmac<Sha256>>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256>>::new(&Default::default()));
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn base64_hmac(key: &[u8], message: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key, message))
}

fn hex_hmac(key: &[u8], message: &[u8]) -> String {
    hex::encode(hmac_sha256(key, message))
}

/// Why a request failed, in a few words.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer within 10 seconds".to_owned()
    } else if error.is_connect() {
        format!("cannot connect ({})", source_of(error))
    } else {
        source_of(error)
    }
}

fn source_of(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "100.64.0.1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(
                internal(ip.parse().unwrap_or(IpAddr::from([8, 8, 8, 8]))),
                "{ip}"
            );
        }
        for ip in ["8.8.8.8", "203.119.1.1", "2400:3200::1"] {
            assert!(
                !internal(ip.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))),
                "{ip}"
            );
        }
    }

    #[test]
    fn addresses_are_parsed_not_guessed() {
        assert!(parse_address("wang@example.org").is_ok());
        assert!(parse_address(" li@mail.example.cn ").is_ok());
        assert!(parse_address("not an address").is_err());
        assert!(parse_address("a@").is_err());
    }

    #[test]
    fn dingtalk_signs_as_documented() {
        // HMAC-SHA256 of "timestamp\nsecret" under the secret, in Base64.
        let sign = base64_hmac(b"SEC123", b"1700000000000\nSEC123");
        assert_eq!(sign.len(), 44);
        assert_ne!(sign, base64_hmac(b"SEC124", b"1700000000000\nSEC124"));
    }
}
