//! Every Monday morning: each unit running a live campaign hears how far it has got.

use serde_json::json;
use tongxin_store::{Actor, Event, PageRequest, Recipients};

use crate::{JobError, Work};

pub const WEEKLY_COVERAGE: &str = "campaigns.weekly";

pub async fn run(work: &Work) -> Result<Option<serde_json::Value>, JobError> {
    let now = work.clock.now();
    let today = work.zone.date_of(now).to_string();
    let system = Actor::system("jobs");
    let mut told = 0;
    let mut page = 1;
    loop {
        let campaigns = work
            .store
            .campaigns(
                &system,
                false,
                PageRequest::new(Some(page), Some(PageRequest::MAX_PER_PAGE)),
            )
            .await?;
        let last = campaigns.items.len() < PageRequest::MAX_PER_PAGE as usize;
        for campaign in campaigns.items {
            if campaign.starts_on.as_str() > today.as_str()
                || campaign.ends_on.as_str() < today.as_str()
            {
                continue;
            }
            let mut event = Event::new(
                "campaign.weekly",
                format!("campaign:{}", campaign.id),
                format!("/campaigns/{}", campaign.id),
                json!({
                    "title": campaign.title,
                    "reached": campaign.coverage.reached,
                    "targeted": campaign.coverage.targeted,
                    "percent": campaign.coverage.percent_text(),
                }),
                Recipients::StaffOf(campaign.unit_id),
            );
            // The unit's robot hears of it too, if it chose to.
            event.unit = Some(campaign.unit_id);
            work.store.enqueue_job(now, &event.job(now)).await?;
            told += 1;
        }
        if last {
            break;
        }
        page += 1;
    }
    Ok(Some(json!({ "campaigns": told })))
}
