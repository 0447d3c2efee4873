//! Delivers an event: finds its recipients and puts it in each one's inbox, once per account
//! however often the job runs (the delivery key is the job and the account); enqueues an
//! e-mail for those who want this kind by mail, and a delivery to each channel of the event's
//! unit told this kind (each once per event: unique keys).

use serde_json::json;
use tongxin_store::{ClaimedJob, Delivery, Event};

use crate::{JobError, Work};

pub use tongxin_store::NOTIFY as KIND;

pub async fn run(work: &Work, job: &ClaimedJob) -> Result<Option<serde_json::Value>, JobError> {
    let event = Event::from_payload(&job.payload)
        .ok_or_else(|| JobError::stop("the event in this job cannot be read"))?;
    let store = &work.store;
    let now = work.clock.now();
    let accounts = store.recipients(&event.to).await?;
    let mut delivered = 0;
    for account in &accounts {
        let delivery = store
            .deliveries_of(*account)
            .await?
            .get(&event.notice.kind)
            .copied()
            .unwrap_or(Delivery::App);
        let key = format!("job:{}:{account}", job.id);
        let done = store
            .deliver_notification(
                now,
                *account,
                &event.notice,
                &key,
                job.id,
                delivery == Delivery::Digest,
            )
            .await?;
        if done != tongxin_store::Delivered::Already {
            delivered += 1;
            // Without a mail server, e-mail is not attempted: the inbox has it.
            if delivery == Delivery::Email && work.outbound.settings().mail.is_some() {
                let mail = super::deliver::email_job(now, *account, &event.notice);
                store.enqueue_job(now, &mail).await?;
            }
        }
    }
    let mut channels = 0;
    if let Some(unit) = event.unit {
        for (channel, path) in store.channels_told(unit, &event.notice.kind).await? {
            let send =
                super::deliver::channel_job(now, job.id, channel, &event.notice).unit(Some(path));
            store.enqueue_job(now, &send).await?;
            channels += 1;
        }
    }
    Ok(Some(json!({
        "recipients": accounts.len(),
        "delivered": delivered,
        "channels": channels,
    })))
}
