//! A unit's outgoing channels: group robots (WeCom, DingTalk, Feishu) and generic webhooks its
//! administrator sets up, each told the kinds of event chosen for it. The address (which
//! carries the robot's key) and the signing secret are sealed to their row and never shown
//! again: a channel is listed by its name, kind and host.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use serde_json::json;
use tongxin_core::{Field, Invalid, Reason, Timestamp, parse_name};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::crypto::SealedAt;
use crate::entity::unit_channel;
use crate::error::{Result, StoreError};

/// The kinds of event a channel may be told: those about a unit's work, not about a person
/// (a chat group is no place for one member's record).
pub const CHANNEL_EVENTS: [&str; 3] = ["activity.changed", "activity.cancelled", "campaign.weekly"];

/// Longest address or secret accepted, in characters.
const MAX_SECRET_CHARS: usize = 2_000;

/// What kind of receiver a channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    WeCom,
    DingTalk,
    Feishu,
    Webhook,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::WeCom,
        ChannelKind::DingTalk,
        ChannelKind::Feishu,
        ChannelKind::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::WeCom => "wecom",
            ChannelKind::DingTalk => "dingtalk",
            ChannelKind::Feishu => "feishu",
            ChannelKind::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether it signs what it sends with a secret (WeCom's key is in its address).
    pub fn signs(self) -> bool {
        self != ChannelKind::WeCom
    }
}

/// A channel as set up.
#[derive(Debug, Clone)]
pub struct ChannelInput {
    pub kind: ChannelKind,
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
    pub events: Vec<String>,
}

/// A channel as listed: never its address or secret.
#[derive(Debug, Clone)]
pub struct ChannelView {
    pub id: i64,
    pub unit_id: i64,
    pub kind: ChannelKind,
    pub name: String,
    pub url_hint: String,
    pub has_secret: bool,
    pub events: Vec<String>,
    pub created_at: Timestamp,
}

/// What sending to a channel needs.
#[derive(Debug, Clone)]
pub struct ChannelTarget {
    pub id: i64,
    pub kind: ChannelKind,
    pub url: String,
    pub secret: Option<String>,
}

fn url_at(id: i64) -> SealedAt<'static> {
    SealedAt {
        column: "unit_channels.url",
        row: id,
    }
}

fn secret_at(id: i64) -> SealedAt<'static> {
    SealedAt {
        column: "unit_channels.secret",
        row: id,
    }
}

/// `https://host` of an address, to show in its place; `None` when it is no http(s) address.
pub fn url_hint(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?;
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    Some(format!("{scheme}://{host}"))
}

fn view(row: unit_channel::Model) -> ChannelView {
    ChannelView {
        id: row.id,
        unit_id: row.unit_id,
        kind: ChannelKind::parse(&row.kind).unwrap_or(ChannelKind::Webhook),
        name: row.name,
        url_hint: row.url_hint,
        has_secret: row.secret_sealed.is_some(),
        events: serde_json::from_str(&row.events).unwrap_or_default(),
        created_at: Timestamp::from_micros(row.created_at),
    }
}

impl Store {
    /// The channels of a unit the actor administers, by name.
    pub async fn channels(&self, actor: &Actor, unit_id: i64) -> Result<Vec<ChannelView>> {
        actor.require_admin()?;
        self.unit(actor, unit_id).await?;
        let rows = access::visible::<unit_channel::Entity>(actor)
            .filter(unit_channel::Column::UnitId.eq(unit_id))
            .order_by_asc(unit_channel::Column::Name)
            .order_by_asc(unit_channel::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Sets up a channel for a unit of the actor's subtree; the address and secret are sealed.
    pub async fn add_channel(
        &self,
        actor: &Actor,
        now: Timestamp,
        unit_id: i64,
        input: &ChannelInput,
    ) -> Result<ChannelView> {
        actor.require_admin()?;
        let name = parse_name(Field::Named("channel_name"), &input.name)?;
        let url = input.url.trim();
        let hint = url_hint(url)
            .filter(|_| url.chars().count() <= MAX_SECRET_CHARS)
            .ok_or_else(|| Invalid::new(Field::Named("url"), Reason::UrlFormat))?;
        let secret = input
            .secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(secret) = secret
            && secret.chars().count() > MAX_SECRET_CHARS
        {
            return Err(Invalid::new(
                Field::Named("secret"),
                Reason::TooLong {
                    max: MAX_SECRET_CHARS,
                },
            )
            .into());
        }
        if input.kind.signs() && secret.is_none() {
            return Err(Invalid::new(Field::Named("secret"), Reason::Required).into());
        }
        if input
            .events
            .iter()
            .any(|e| !CHANNEL_EVENTS.contains(&e.as_str()))
        {
            return Err(Invalid::new(Field::Named("events"), Reason::NotAChoice).into());
        }
        let tx = self.begin_write().await?;
        let unit = filing_unit(&tx, actor, unit_id, Field::Unit).await?;
        let created = unit_channel::ActiveModel {
            unit_id: Set(unit.id),
            unit_path: Set(unit.path.clone()),
            kind: Set(input.kind.as_str().to_owned()),
            name: Set(name),
            url_sealed: Set(String::new()),
            url_hint: Set(hint),
            secret_sealed: Set(None),
            events: Set(json!(input.events).to_string()),
            created_at: Set(now.micros()),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        // Sealed once the row has its id: a sealed value is bound to its row.
        let created = unit_channel::ActiveModel {
            id: Set(created.id),
            url_sealed: Set(self.keys.seal(url_at(created.id), url)),
            secret_sealed: Set(secret.map(|s| self.keys.seal(secret_at(created.id), s))),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("channel.create")
                .target("unit_channel", created.id, &created.name)
                .unit(&created.unit_path)
                .detail(json!({ "kind": created.kind, "host": created.url_hint, "events": input.events })),
        )
        .await?;
        tx.commit().await?;
        Ok(view(created))
    }

    /// Removes a channel of the actor's subtree.
    pub async fn delete_channel(&self, actor: &Actor, now: Timestamp, id: i64) -> Result<()> {
        actor.require_admin()?;
        let tx = self.begin_write().await?;
        let channel = access::find_to_change::<unit_channel::Entity, _>(&tx, actor, id).await?;
        access::delete_rows::<unit_channel::Entity>(Unguarded::PartsOf)
            .filter(unit_channel::Column::Id.eq(id))
            .exec(&tx)
            .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("channel.delete")
                .target("unit_channel", id, &channel.name)
                .unit(&channel.unit_path),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Where to send to a channel of the actor's subtree (for "send a test message").
    pub async fn channel_target(&self, actor: &Actor, id: i64) -> Result<ChannelTarget> {
        actor.require_admin()?;
        let row = access::find_to_change::<unit_channel::Entity, _>(&self.db, actor, id).await?;
        self.target_of(row)
    }

    /// Where to send to channel `id`, for a job delivering to it; `None` once it was removed.
    pub async fn channel_for_delivery(&self, id: i64) -> Result<Option<ChannelTarget>> {
        match access::unguarded_by_id::<unit_channel::Entity>(Unguarded::System, id)
            .one(&self.db)
            .await?
        {
            Some(row) => Ok(Some(self.target_of(row)?)),
            None => Ok(None),
        }
    }

    fn target_of(&self, row: unit_channel::Model) -> Result<ChannelTarget> {
        let url = self.keys.open(url_at(row.id), &row.url_sealed)?;
        let secret = row
            .secret_sealed
            .as_deref()
            .map(|s| self.keys.open(secret_at(row.id), s))
            .transpose()?;
        Ok(ChannelTarget {
            id: row.id,
            kind: ChannelKind::parse(&row.kind).ok_or_else(|| StoreError::Corrupt {
                what: format!("channel kind {:?}", row.kind),
            })?,
            url,
            secret,
        })
    }

    /// The channels of `unit` told events of `kind`, with the unit's path (a delivery is
    /// filed under it, for its administrators to follow).
    pub async fn channels_told(&self, unit: i64, kind: &str) -> Result<Vec<(i64, String)>> {
        let rows = access::unguarded::<unit_channel::Entity>(Unguarded::System)
            .filter(unit_channel::Column::UnitId.eq(unit))
            .order_by_asc(unit_channel::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|r| {
                serde_json::from_str::<Vec<String>>(&r.events)
                    .is_ok_and(|events| events.iter().any(|e| e == kind))
            })
            .map(|r| (r.id, r.unit_path))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::url_hint;

    #[test]
    fn an_address_is_shown_by_its_host_alone() {
        assert_eq!(
            url_hint("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc").as_deref(),
            Some("https://qyapi.weixin.qq.com")
        );
        assert_eq!(
            url_hint("http://user:pw@example.org:8080/hook").as_deref(),
            Some("http://example.org:8080")
        );
        assert_eq!(url_hint("ftp://example.org/"), None);
        assert_eq!(url_hint("https:///nohost"), None);
        assert_eq!(url_hint("not a url"), None);
    }
}
