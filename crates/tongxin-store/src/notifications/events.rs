//! Events: what happened, to whom it should be told, raised in the transaction of the change.
//!
//! A capability that wants its users told of something adds its kind to [`KINDS`] (with its
//! message in the translation files, `notice.<kind>`), and calls [`raise`] with the event in
//! the transaction that makes the change; the `notify` job does the rest.

use sea_orm::ConnectionTrait;
use serde_json::json;
use tongxin_core::Timestamp;

use super::Notice;
use crate::error::Result;
use crate::jobs::{NewJob, enqueue};

/// The job kind that delivers an event.
pub const NOTIFY: &str = "notify";

/// The kinds of event an account may be told of, each with its own preference.
pub const KINDS: [&str; 17] = [
    "activity.invited",
    "activity.changed",
    "activity.cancelled",
    "activity.reminder",
    "proposal.awaiting",
    "proposal.approved",
    "proposal.rejected",
    "import.finished",
    "import.failed",
    "campaign.weekly",
    "case.submitted",
    "case.assigned",
    "case.extension",
    "case.due_soon",
    "case.overdue",
    "case.answered",
    "case.returned",
];

/// The kinds a member hears of: its invitations and its proposals' decisions.
const MEMBER_KINDS: [&str; 8] = [
    "activity.invited",
    "activity.changed",
    "activity.cancelled",
    "activity.reminder",
    "proposal.approved",
    "proposal.rejected",
    "case.answered",
    "case.returned",
];

/// The kinds those who work in the tree hear of: the work of their units.
const STAFF_KINDS: [&str; 9] = [
    "proposal.awaiting",
    "import.finished",
    "import.failed",
    "campaign.weekly",
    "case.submitted",
    "case.assigned",
    "case.extension",
    "case.due_soon",
    "case.overdue",
];

/// The kinds an account of `role` can be told of, for its preferences.
pub fn kinds_for(role: tongxin_core::Role) -> &'static [&'static str] {
    if role == tongxin_core::Role::Member {
        &MEMBER_KINDS
    } else {
        &STAFF_KINDS
    }
}

/// Who is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// These accounts.
    Accounts(Vec<i64>),
    /// The member accounts linked to these people.
    People(Vec<i64>),
    /// The administrators and staff at this unit or, where it has none (a village), at the
    /// nearest unit above that has some.
    StaffOf(i64),
    /// The members invited to an activity: all, or those whose invitation has this status
    /// (`invited`: not yet answered), or those invited at this instant (one request's).
    Invitees {
        activity: i64,
        status: Option<String>,
        at: Option<i64>,
    },
}

impl Recipients {
    fn to_json(&self) -> serde_json::Value {
        match self {
            Recipients::Accounts(ids) => json!({ "accounts": ids }),
            Recipients::People(ids) => json!({ "people": ids }),
            Recipients::StaffOf(unit) => json!({ "staff_of": unit }),
            Recipients::Invitees {
                activity,
                status,
                at,
            } => json!({ "invitees_of": activity, "status": status, "at": at }),
        }
    }

    /// Reads what [`Recipients::to_json`] wrote.
    pub fn from_json(value: &serde_json::Value) -> Option<Recipients> {
        let ids = |v: &serde_json::Value| -> Option<Vec<i64>> {
            v.as_array()?
                .iter()
                .map(serde_json::Value::as_i64)
                .collect()
        };
        if let Some(list) = value.get("accounts") {
            return ids(list).map(Recipients::Accounts);
        }
        if let Some(list) = value.get("people") {
            return ids(list).map(Recipients::People);
        }
        if let Some(activity) = value.get("invitees_of").and_then(serde_json::Value::as_i64) {
            return Some(Recipients::Invitees {
                activity,
                status: value
                    .get("status")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
                at: value.get("at").and_then(serde_json::Value::as_i64),
            });
        }
        value
            .get("staff_of")
            .and_then(serde_json::Value::as_i64)
            .map(Recipients::StaffOf)
    }
}

/// Something that happened, and who should hear of it.
#[derive(Debug, Clone)]
pub struct Event {
    pub notice: Notice,
    pub to: Recipients,
    /// The unit it concerns, whose robot may be told too.
    pub unit: Option<i64>,
}

impl Event {
    pub fn new(
        kind: &str,
        subject: String,
        link: String,
        params: serde_json::Value,
        to: Recipients,
    ) -> Event {
        Event {
            notice: Notice {
                kind: kind.to_owned(),
                subject,
                link,
                params,
            },
            to,
            unit: None,
        }
    }

    /// The job that delivers it.
    pub fn job(&self, now: Timestamp) -> NewJob {
        NewJob::new(
            NOTIFY,
            json!({
                "kind": self.notice.kind,
                "subject": self.notice.subject,
                "link": self.notice.link,
                "params": self.notice.params,
                "to": self.to.to_json(),
                "unit": self.unit,
            }),
            now,
        )
    }

    /// Reads an event back from its job's payload.
    pub fn from_payload(payload: &serde_json::Value) -> Option<Event> {
        let text = |key: &str| payload.get(key)?.as_str().map(str::to_owned);
        Some(Event {
            notice: Notice {
                kind: text("kind")?,
                subject: text("subject")?,
                link: text("link")?,
                params: payload.get("params").cloned().unwrap_or_default(),
            },
            to: Recipients::from_json(payload.get("to")?)?,
            unit: payload.get("unit").and_then(serde_json::Value::as_i64),
        })
    }
}

/// An event about an activity, told to its invited members (`to` says which), who read it
/// on their own activities page.
pub(crate) fn about_activity(
    kind: &str,
    activity: &crate::entity::activity::Model,
    to: Recipients,
) -> Event {
    let mut event = Event::new(
        kind,
        format!("activity:{}", activity.id),
        "/my-activities".to_owned(),
        json!({
            "title": activity.title,
            "starts": Timestamp::from_micros(activity.starts_at).display_minutes(),
            "place": activity.place,
        }),
        to,
    );
    event.unit = Some(activity.unit_id);
    event
}

/// Raises `event` in the transaction `conn` of the change it tells of.
pub(crate) async fn raise<C: ConnectionTrait>(
    conn: &C,
    now: Timestamp,
    event: &Event,
) -> Result<()> {
    enqueue(conn, now, &event.job(now)).await?;
    Ok(())
}
