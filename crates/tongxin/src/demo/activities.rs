//! The demo city's year of work: activity kinds, a city-wide study campaign held in batches by
//! the counties (the first batches held and attended, later ones planned), a few activities of
//! other kinds, and the sample work plan in the material library.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tongxin_core::{Attendance, Reason, Timestamp};
use tongxin_store::{
    ActivityChange, ActivityInput, Actor, CampaignInput, Invitees, MaterialUpload,
    OrganizationInput, OrganizationKind, PageRequest, Store, StoreError,
};

use super::DemoError;

/// The activity kinds of the demo, as (code, name).
pub const KINDS: [(&str, &str); 8] = [
    ("seminar", "学习研讨会"),
    ("lecture", "同心大讲堂"),
    ("reading_club", "读书会"),
    ("forum", "座谈会"),
    ("training", "集中培训"),
    ("research", "调研走访"),
    ("service", "社会服务"),
    ("fellowship", "联谊活动"),
];

/// The counties' other work: the index of its kind in [`KINDS`], a title and a place, each
/// after the county's name.
const OTHER_WORK: [(usize, &str, &str); 6] = [
    (2, "“同心学习 立德圆梦”读书会", "图书馆"),
    (3, "党外代表人士座谈会", "委统战部会议室"),
    (4, "党外干部集中培训", "委党校"),
    (5, "民营企业调研走访", "工业园区"),
    (6, "“同心助力乡村振兴”义诊活动", "人民医院门前广场"),
    (7, "新春联谊会", "文化馆"),
];

/// The study sample: a real work plan as a Simplified-to-Traditional converter left it.
const WORK_PLAN: &[u8] =
    include_bytes!("../../tests/fixtures/materials/work-plan.converted-zh-Hant.txt");

const DAY_MINUTES: i64 = 24 * 60;

/// A time `days` from `now`, at `hour` o'clock China time.
fn at(now: Timestamp, days: i64, hour: u32) -> Timestamp {
    let date = now.plus_minutes(days * DAY_MINUTES).date();
    Timestamp::start_of_day(date).plus_minutes(i64::from(hour) * 60)
}

/// Loads kinds, the campaign, its batches and attendance, and the sample material.
pub async fn load(store: &Store, now: Timestamp, seed_value: u64) -> Result<(), DemoError> {
    let system = Actor::system("demo");
    let mut rng = ChaCha8Rng::seed_from_u64(seed_value ^ 0xAC71);
    let mut kinds = Vec::new();
    for (code, name) in KINDS {
        kinds.push(
            store
                .create_activity_kind(&system, now, code, name)
                .await?
                .id,
        );
    }
    let city = store.unit_by_code(&system, "150100").await?;
    let material = store
        .import_material(
            &system,
            now,
            &MaterialUpload {
                unit_id: city.id,
                title: "2023年首府统一战线工作计划".to_owned(),
                file_name: "work-plan.txt".to_owned(),
                bytes: WORK_PLAN.to_vec(),
            },
        )
        .await?
        .material
        .id;
    let sectors: Vec<i64> = store
        .sectors(&system, false)
        .await?
        .into_iter()
        .filter(|s| matches!(s.code.as_str(), "minzhu" | "wudangpai" | "dangwai"))
        .map(|s| s.id)
        .collect();
    let campaign = match store
        .create_campaign(
            &system,
            now,
            &CampaignInput {
                unit_id: city.id,
                title: "学习贯彻党的二十大精神".to_owned(),
                starts_on: now.plus_minutes(-45 * DAY_MINUTES).date(),
                ends_on: now.plus_minutes(120 * DAY_MINUTES).date(),
                description: Some(
                    "全覆盖、分批次组织各界别代表人士学习党的二十大精神。".to_owned(),
                ),
                target_unit_id: city.id,
                sector_ids: sectors,
                tags: Vec::new(),
                material_ids: vec![material],
            },
        )
        .await
    {
        Ok(campaign) => Some(campaign.id),
        // A city too small for anyone to be in the campaign's sectors goes without it.
        Err(StoreError::Invalid(invalid)) if invalid.reason == Reason::EmptyTarget => None,
        Err(e) => return Err(e.into()),
    };
    let counties = store.children(&system, city.id).await?;
    for (n, county) in counties.iter().enumerate() {
        let county = &county.unit;
        let townships = store.children(&system, county.id).await?;
        // The first batch, held three to five weeks ago in the county's first township.
        if let (Some(first), Some(campaign)) = (townships.first(), campaign) {
            let days_ago = 21 + i64::try_from(n % 3).unwrap_or(0) * 7;
            let input = ActivityInput {
                kind_id: kinds[0],
                unit_id: first.unit.id,
                title: format!("{}第一批集中学习", first.unit.name),
                starts_at: at(now, -days_ago, 9),
                ends_at: at(now, -days_ago, 11),
                venue_id: None,
                place: Some(format!("{}党群服务中心", first.unit.name)),
                campaign_id: None,
                agenda: Some("一、传达学习二十大报告\n二、分组交流\n三、部署下一步学习".to_owned()),
                material_ids: vec![material],
            };
            if let Ok((activity, _)) = store.plan_next_batch(&system, now, campaign, &input).await {
                attend(store, &system, now, activity.id, &mut rng).await?;
                store
                    .change_activity_state(&system, now, activity.id, ActivityChange::Held)
                    .await?;
                store
                    .change_activity_state(
                        &system,
                        now,
                        activity.id,
                        ActivityChange::Summarized {
                            minutes: "集中学习了二十大报告，与会人员结合本职工作交流了体会。"
                                .to_owned(),
                        },
                    )
                    .await?;
            }
        }
        // The next batch, planned for the coming weeks in the second township.
        if let (Some(second), Some(campaign)) = (townships.get(1), campaign) {
            let days_ahead = 5 + i64::try_from(n).unwrap_or(0) * 2;
            let input = ActivityInput {
                kind_id: kinds[1],
                unit_id: second.unit.id,
                title: format!("{}第二批学习：同心大讲堂", second.unit.name),
                starts_at: at(now, days_ahead, 14),
                ends_at: at(now, days_ahead, 16),
                venue_id: None,
                place: Some(format!("{}会议室", county.name)),
                campaign_id: None,
                agenda: None,
                material_ids: vec![material],
            };
            // A township whose people were all reached needs no batch.
            let _ = store.plan_next_batch(&system, now, campaign, &input).await;
        }
        // Work of other kinds, a different one per county, titled and placed as its kind.
        let (kind_index, title, place) = OTHER_WORK[n % OTHER_WORK.len()];
        // Its place is one of the county's venues, kept in the directory.
        let venue = store
            .create_organization(
                &system,
                now,
                &OrganizationInput {
                    unit_id: county.id,
                    name: format!("{}{place}", county.name),
                    kind: OrganizationKind::Venue,
                    sector_id: None,
                    address: None,
                    coordinates: None,
                    is_venue: true,
                },
            )
            .await?;
        let input = ActivityInput {
            kind_id: kinds[kind_index],
            unit_id: county.id,
            title: format!("{}{title}", county.name),
            starts_at: at(now, 3 + i64::try_from(n).unwrap_or(0), 15),
            ends_at: at(now, 3 + i64::try_from(n).unwrap_or(0), 17),
            venue_id: Some(venue.id),
            place: None,
            campaign_id: None,
            agenda: None,
            material_ids: Vec::new(),
        };
        let work = store.create_activity(&system, now, &input).await?;
        let invited = store
            .invite(
                &system,
                now,
                work.id,
                &Invitees::Filter {
                    unit_id: county.id,
                    sector_id: None,
                    tags: vec!["青年".to_owned()],
                },
            )
            .await;
        // A county with no young members yet simply has an empty invitation list.
        if let Err(e) = invited
            && !matches!(e, StoreError::Invalid(_))
        {
            return Err(e.into());
        }
    }
    Ok(())
}

/// Marks about three in four invitees attended, the rest absent or excused.
async fn attend(
    store: &Store,
    system: &Actor,
    now: Timestamp,
    activity: i64,
    rng: &mut ChaCha8Rng,
) -> Result<(), DemoError> {
    let mut attended = Vec::new();
    let mut excused = Vec::new();
    let mut page = 1;
    loop {
        let invitees = store
            .invitations(
                system,
                activity,
                None,
                PageRequest::new(Some(page), Some(200)),
            )
            .await?;
        for i in &invitees.items {
            if rng.random_bool(0.75) {
                attended.push(i.person_id);
            } else {
                excused.push(i.person_id);
            }
        }
        if !invitees.has_next() {
            break;
        }
        page += 1;
    }
    for (people, status) in [
        (attended, Attendance::Attended),
        (excused, Attendance::Excused),
    ] {
        if !people.is_empty() {
            store
                .mark_attendance(system, now, activity, &people, status)
                .await?;
        }
    }
    Ok(())
}
