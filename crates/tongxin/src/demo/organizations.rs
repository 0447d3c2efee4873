//! The demo's organizations: the democratic parties' city committees, the federation of
//! industry and commerce, and the employers the demo's people work for; the people of a
//! default-sized demo are affiliated with their employer (with their title as position) and a
//! party's member with the party's committee.

use std::collections::HashMap;

use tongxin_core::Timestamp;
use tongxin_store::{Actor, OrganizationInput, OrganizationKind, Store};

use super::{ACADEMIC, BUSINESS, DemoError, NEW_STRATUM, RELIGIOUS};

/// The city committees of the democratic parties, by the party's short name.
const PARTY_COMMITTEES: [(&str, &str); 8] = [
    ("民革", "民革呼和浩特市委员会"),
    ("民盟", "民盟呼和浩特市委员会"),
    ("民建", "民建呼和浩特市委员会"),
    ("民进", "民进呼和浩特市委员会"),
    ("农工党", "农工党呼和浩特市委员会"),
    ("致公党", "致公党呼和浩特市委员会"),
    ("九三学社", "九三学社呼和浩特市委员会"),
    ("台盟", "台盟呼和浩特市支部"),
];

/// Employers that are not an organization of their own.
const NOT_ORGANIZATIONS: [&str; 2] = ["个体经营", "自由职业"];

/// People affiliated at most: a large demo (a benchmark's million) is about volume, not detail.
const AFFILIATED_AT_MOST: i64 = 1_000;

/// Creates the organizations and the affiliations.
pub async fn load(store: &Store, now: Timestamp) -> Result<(), DemoError> {
    let system = Actor::system("demo");
    let city = store.unit_by_code(&system, "150100").await?;
    let sectors: HashMap<String, i64> = store
        .sectors(&system, false)
        .await?
        .into_iter()
        .map(|s| (s.code, s.id))
        .collect();
    let create = async |name: &str, kind: OrganizationKind, sector: &str| {
        store
            .create_organization(
                &system,
                now,
                &OrganizationInput {
                    unit_id: city.id,
                    name: name.to_owned(),
                    kind,
                    sector_id: sectors.get(sector).copied(),
                    address: None,
                    coordinates: None,
                    is_venue: false,
                },
            )
            .await
            .map(|o| o.id)
    };
    let mut committees = HashMap::new();
    for (party, name) in PARTY_COMMITTEES {
        committees.insert(
            party,
            create(name, OrganizationKind::PartyCommittee, "minzhu").await?,
        );
    }
    create(
        "呼和浩特市工商业联合会",
        OrganizationKind::Chamber,
        "shanghui",
    )
    .await?;
    let groups = [
        (&ACADEMIC[..], OrganizationKind::School, "dangwai"),
        (&BUSINESS[..], OrganizationKind::Enterprise, "feigong"),
        (&NEW_STRATUM[..], OrganizationKind::Other, "xinjieceng"),
        (&RELIGIOUS[..], OrganizationKind::Association, "zongjiao"),
    ];
    let mut employers = HashMap::new();
    for (professions, kind, sector) in groups {
        for (employer, _) in professions {
            if NOT_ORGANIZATIONS.contains(employer) {
                continue;
            }
            // Of the academic employers, universities and schools are schools; a hospital
            // or a newspaper is another kind of organization.
            let school = employer.ends_with("大学") || employer.ends_with("中学");
            let kind = if kind == OrganizationKind::School && !school {
                OrganizationKind::Other
            } else {
                kind
            };
            employers.insert(*employer, create(employer, kind, sector).await?);
        }
    }
    for id in 1..=AFFILIATED_AT_MOST {
        let Ok(person) = store.person(&system, id).await else {
            break;
        };
        if let Some(org) = person.employer.as_deref().and_then(|e| employers.get(e)) {
            store
                .add_affiliation(&system, now, id, *org, person.title.clone(), None, None)
                .await?;
        }
        let committee = person
            .sectors
            .iter()
            .find_map(|m| m.value("party"))
            .and_then(|party| committees.get(party));
        if let Some(committee) = committee {
            let role = person.sectors.first().and_then(|m| m.role.clone());
            store
                .add_affiliation(&system, now, id, *committee, role, None, None)
                .await?;
        }
    }
    Ok(())
}
