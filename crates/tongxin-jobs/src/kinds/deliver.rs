//! Deliveries beyond the inbox: a robot or webhook told of an event, an e-mail for events an
//! account wants by mail (one per subject and window, however many events merged into it),
//! and each morning's digest for those who want one.

use serde_json::json;
use tongxin_core::Timestamp;
use tongxin_i18n::Lang;
use tongxin_store::{ClaimedJob, MERGE_WINDOW_SECONDS, NewJob, Notice, NotificationView};

use crate::{JobError, Work};

pub const TO_CHANNEL: &str = "deliver.channel";
pub const BY_EMAIL: &str = "deliver.email";
pub const DIGESTS: &str = "digest.daily";
pub const DIGEST: &str = "deliver.digest";

/// A robot or webhook told of an event; enqueued once per event and channel.
pub fn channel_job(now: Timestamp, event_job: i64, channel: i64, notice: &Notice) -> NewJob {
    NewJob::new(
        TO_CHANNEL,
        json!({
            "channel": channel,
            "kind": notice.kind,
            "link": notice.link,
            "params": notice.params,
        }),
        now,
    )
    .unique(format!("channel:{event_job}:{channel}"))
}

/// An e-mail to `account` about `notice`, sent when the merge window closes: events of its
/// kind and subject until then go in the same mail.
pub fn email_job(now: Timestamp, account: i64, notice: &Notice) -> NewJob {
    let window = MERGE_WINDOW_SECONDS * 1_000_000;
    let bucket = now.micros().div_euclid(window);
    NewJob::new(
        BY_EMAIL,
        json!({ "account": account, "kind": notice.kind, "subject": notice.subject }),
        Timestamp::from_micros((bucket + 1) * window),
    )
    .unique(format!(
        "email:{account}:{}:{}:{bucket}",
        notice.kind, notice.subject
    ))
}

/// A refused send as a job's failure: tried again later unless it cannot get better.
fn refused(invalid: tongxin_core::Invalid) -> JobError {
    match crate::outbound::failure(&invalid) {
        (why, true) => JobError::retry(why),
        (why, false) => JobError::stop(why),
    }
}

fn text_of(work: &Work, notice: &NotificationView) -> String {
    crate::notice_text(&work.catalog, Lang::default(), notice)
}

pub async fn to_channel(
    work: &Work,
    job: &ClaimedJob,
) -> Result<Option<serde_json::Value>, JobError> {
    let channel = job.payload["channel"]
        .as_i64()
        .ok_or_else(|| JobError::stop("the job names no channel"))?;
    let Some(target) = work.store.channel_for_delivery(channel).await? else {
        return Ok(Some(json!({ "skipped": "the channel was removed" })));
    };
    let now = work.clock.now();
    let notice = NotificationView {
        id: 0,
        kind: job.payload["kind"].as_str().unwrap_or_default().to_owned(),
        link: job.payload["link"].as_str().unwrap_or_default().to_owned(),
        params: job.payload["params"].clone(),
        merged: 1,
        created_at: now,
        updated_at: now,
        read: false,
    };
    let link = work.outbound.link(&notice.link);
    let text = format!("{}\n{link}", text_of(work, &notice));
    let extra = json!({ "kind": notice.kind, "link": link, "params": notice.params });
    work.outbound
        .send_to_channel(&target, now, &format!("job-{}", job.id), &text, &extra)
        .await
        .map_err(refused)?;
    Ok(Some(json!({ "sent": true })))
}

pub async fn by_email(
    work: &Work,
    job: &ClaimedJob,
) -> Result<Option<serde_json::Value>, JobError> {
    let account = job.payload["account"]
        .as_i64()
        .ok_or_else(|| JobError::stop("the job names no account"))?;
    let (kind, subject) = (
        job.payload["kind"].as_str().unwrap_or_default(),
        job.payload["subject"].as_str().unwrap_or_default(),
    );
    let Some(address) = work.store.email_of(account).await? else {
        return Ok(Some(
            json!({ "skipped": "the account has no e-mail address" }),
        ));
    };
    let Some(notice) = work
        .store
        .latest_notification(account, kind, subject)
        .await?
    else {
        return Ok(Some(json!({ "skipped": "the notification is gone" })));
    };
    let text = text_of(work, &notice);
    let title = format!(
        "{}{}",
        work.catalog.get(Lang::default(), "mail.subject_prefix"),
        text.chars().take(40).collect::<String>()
    );
    let body = format!(
        "{text}\n\n{}\n\n{}",
        work.outbound.link(&notice.link),
        work.catalog.get(Lang::default(), "mail.footer")
    );
    work.outbound
        .send_mail(&address, &title, &body, &format!("job-{}", job.id))
        .await
        .map_err(refused)?;
    Ok(Some(json!({ "sent": true })))
}

/// Each morning: one digest job per account with notifications waiting for it.
pub async fn digests(work: &Work, job: &ClaimedJob) -> Result<Option<serde_json::Value>, JobError> {
    if work.outbound.settings().mail.is_none() {
        return Ok(Some(json!({ "skipped": "no mail server is configured" })));
    }
    let now = work.clock.now();
    let accounts = work.store.accounts_awaiting_digest().await?;
    let occurrence = job.payload["occurrence"].as_i64().unwrap_or(now.micros());
    for account in &accounts {
        let digest = NewJob::new(DIGEST, json!({ "account": account }), now)
            .unique(format!("digest:{account}:{occurrence}"));
        work.store.enqueue_job(now, &digest).await?;
    }
    Ok(Some(json!({ "accounts": accounts.len() })))
}

pub async fn digest(work: &Work, job: &ClaimedJob) -> Result<Option<serde_json::Value>, JobError> {
    let account = job.payload["account"]
        .as_i64()
        .ok_or_else(|| JobError::stop("the job names no account"))?;
    let notices = work.store.digest_of(account).await?;
    if notices.is_empty() {
        return Ok(Some(json!({ "notifications": 0 })));
    }
    let Some(address) = work.store.email_of(account).await? else {
        return Ok(Some(
            json!({ "skipped": "the account has no e-mail address" }),
        ));
    };
    let lang = Lang::default();
    let mut body = String::new();
    for notice in &notices {
        body.push_str(&format!(
            "· {} {}\n  {}\n",
            notice.updated_at.display_minutes(),
            text_of(work, notice),
            work.outbound.link(&notice.link)
        ));
    }
    body.push('\n');
    body.push_str(work.catalog.get(lang, "mail.footer"));
    let title = work.catalog.format(
        lang,
        "mail.digest_subject",
        &[("n", &notices.len().to_string())],
    );
    work.outbound
        .send_mail(&address, &title, &body, &format!("job-{}", job.id))
        .await
        .map_err(refused)?;
    let ids: Vec<i64> = notices.iter().map(|n| n.id).collect();
    work.store.digest_sent(account, &ids).await?;
    Ok(Some(json!({ "notifications": ids.len() })))
}
