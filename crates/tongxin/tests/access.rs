//! The access layer's declarations hold over HTTP: for every kind of record and every role, an
//! actor at the record's own unit, above it, below it, beside it and (for members) as its owner
//! lists, shows, changes and deletes exactly what the kind's declaration allows. Also the
//! deliberate decisions declared there: affiliations across the tree, the search through
//! organizations, materials of a visible campaign, and the refusal of a damaged saved filter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::activity::{plan, setup};
use common::records::{Records, account, affiliate, file_records, propose, save_filter};
use common::{Api, Engine, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tongxin_core::Role;
use tongxin_store::access::{Declaration, Kind, Position, Reach, Standing};

const OPERATIONS: [Operation; 4] = [
    Operation::List,
    Operation::Show,
    Operation::Change,
    Operation::Delete,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    List,
    Show,
    Change,
    Delete,
}

/// What one attempt answered: whether a list held the record, or a status.
#[derive(Debug)]
enum Seen {
    Listed(bool),
    Status(StatusCode),
}

fn ids(list: &Value, key: &str) -> Vec<i64> {
    list[key]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["id"].as_i64()).collect())
        .unwrap_or_default()
}

fn holds(reply: &common::Reply, key: &str, id: i64) -> Seen {
    if reply.status == StatusCode::OK {
        Seen::Listed(ids(&reply.json(), key).contains(&id))
    } else {
        Seen::Listed(false)
    }
}

/// One attempt of `operation` on the kind's record; `None` where the product offers none.
async fn attempt(
    kind: Kind,
    operation: Operation,
    api: &Api,
    owner: bool,
    r: &Records,
) -> Option<Seen> {
    use Operation::*;
    let status = |reply: common::Reply| Some(Seen::Status(reply.status));
    match (kind, operation) {
        (Kind::Unit, List) => Some(holds(&api.get("/units?q=新城区").await, "items", r.unit)),
        (Kind::Unit, Show) => status(api.get(&format!("/units/{}", r.unit)).await),
        (Kind::Unit, Change) => status(
            api.patch_json(&format!("/units/{}", r.unit), &json!({ "name": "新城区" }))
                .await,
        ),
        (Kind::Account, List) => Some(holds(
            &api.get("/accounts?q=record.account").await,
            "items",
            r.account,
        )),
        (Kind::Account, Show) => status(api.get(&format!("/accounts/{}", r.account)).await),
        (Kind::Account, Change) => status(
            api.post_json(&format!("/accounts/{}/enable", r.account), &json!({}))
                .await,
        ),
        (Kind::Sector, List) => Some(holds(&api.get("/sectors").await, "items", r.sector)),
        (Kind::Sector, Change) => status(
            api.patch_json(
                &format!("/sectors/{}", r.sector),
                &json!({ "name": "民主党派" }),
            )
            .await,
        ),
        (Kind::SectorField, List) => {
            let reply = api.get("/sectors").await;
            let fields: Vec<i64> = if reply.status == StatusCode::OK {
                reply.json()["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|s| ids(s, "fields"))
                    .collect()
            } else {
                Vec::new()
            };
            Some(Seen::Listed(fields.contains(&r.field)))
        }
        (Kind::SectorField, Change) => status(
            api.patch_json(
                &format!("/sectors/{}/fields/{}", r.sector, r.field),
                &json!({ "label": "所属党派" }),
            )
            .await,
        ),
        (Kind::ActivityKind, List) => {
            Some(holds(&api.get("/activity-kinds").await, "items", r.kind))
        }
        (Kind::ActivityKind, Change) => status(
            api.patch_json(
                &format!("/activity-kinds/{}", r.kind),
                &json!({ "name": "学习研讨会" }),
            )
            .await,
        ),
        (Kind::Person, List) if owner => {
            let reply = api.get("/me/record").await;
            Some(Seen::Listed(
                reply.status == StatusCode::OK && reply.json()["id"] == r.person,
            ))
        }
        (Kind::Person, List) => Some(holds(&api.get("/people?q=矩阵人").await, "items", r.person)),
        (Kind::Person, Show) if owner => {
            let reply = api.get("/me/record").await;
            if reply.status == StatusCode::OK && reply.json()["id"] == r.person {
                Some(Seen::Status(StatusCode::OK))
            } else {
                Some(Seen::Status(StatusCode::NOT_FOUND))
            }
        }
        (Kind::Person, Show) => status(api.get(&format!("/people/{}", r.person)).await),
        (Kind::Person, Delete) => status(
            api.post_json(&format!("/people/{}/archive", r.person), &json!({}))
                .await,
        ),
        (Kind::Organization, List) => Some(holds(
            &api.get("/organizations?q=矩阵").await,
            "items",
            r.organization,
        )),
        (Kind::Organization, Show) => {
            status(api.get(&format!("/organizations/{}", r.organization)).await)
        }
        (Kind::Organization, Delete) => status(
            api.post_json(
                &format!("/organizations/{}/archive", r.organization),
                &json!({}),
            )
            .await,
        ),
        (Kind::Affiliation, List) => Some(holds(
            &api.get(&format!("/people/{}/affiliations", r.person)).await,
            "items",
            r.affiliation,
        )),
        (Kind::Affiliation, Delete) => status(
            api.delete(&format!("/affiliations/{}", r.affiliation))
                .await,
        ),
        (Kind::Activity, List) if owner => {
            Some(holds(&api.get("/me/activities").await, "items", r.activity))
        }
        (Kind::Activity, List) => Some(holds(&api.get("/activities").await, "items", r.activity)),
        (Kind::Activity, Show) if owner => {
            let mine = ids(&api.get("/me/activities").await.json(), "items");
            Some(Seen::Status(if mine.contains(&r.activity) {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            }))
        }
        (Kind::Activity, Show) => status(api.get(&format!("/activities/{}", r.activity)).await),
        (Kind::Activity, Change) => status(
            api.post_json(
                &format!("/activities/{}/check-in-link", r.activity),
                &json!({}),
            )
            .await,
        ),
        (Kind::Invitation, List) if owner => {
            Some(holds(&api.get("/me/activities").await, "items", r.activity))
        }
        (Kind::Invitation, List) => {
            let reply = api
                .get(&format!("/activities/{}/invitations", r.activity))
                .await;
            let people: Vec<i64> = if reply.status == StatusCode::OK {
                reply.json()["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|i| i["person"]["id"].as_i64())
                    .collect()
            } else {
                Vec::new()
            };
            Some(Seen::Listed(people.contains(&r.person)))
        }
        (Kind::Invitation, Change) if owner => status(
            api.post_json(
                &format!("/me/activities/{}/answer", r.activity),
                &json!({ "status": "confirmed" }),
            )
            .await,
        ),
        (Kind::Invitation, Change) => status(
            api.post_json(
                &format!("/activities/{}/attendance", r.activity),
                &json!({ "person_ids": [r.person], "status": "confirmed" }),
            )
            .await,
        ),
        (Kind::Photo, List) => {
            let reply = api.get(&format!("/activities/{}", r.activity)).await;
            Some(if reply.status == StatusCode::OK {
                Seen::Listed(ids(&reply.json(), "photos").contains(&r.photo))
            } else {
                Seen::Listed(false)
            })
        }
        (Kind::Photo, Show) => status(
            api.get(&format!("/activities/{}/photos/{}", r.activity, r.photo))
                .await,
        ),
        (Kind::Campaign, List) => Some(holds(&api.get("/campaigns").await, "items", r.campaign)),
        (Kind::Campaign, Show) => status(api.get(&format!("/campaigns/{}", r.campaign)).await),
        (Kind::Campaign, Delete) => status(
            api.post_json(&format!("/campaigns/{}/archive", r.campaign), &json!({}))
                .await,
        ),
        (Kind::Material, List) => Some(holds(&api.get("/materials").await, "items", r.material)),
        (Kind::Material, Show) => status(api.get(&format!("/materials/{}", r.material)).await),
        (Kind::SavedFilter, List) => Some(holds(
            &api.get("/saved-filters").await,
            "items",
            r.saved_filter,
        )),
        (Kind::SavedFilter, Delete) => status(
            api.delete(&format!("/saved-filters/{}", r.saved_filter))
                .await,
        ),
        (Kind::Proposal, List) if owner => {
            Some(holds(&api.get("/me/proposals").await, "items", r.proposal))
        }
        (Kind::Proposal, List) => Some(holds(&api.get("/proposals").await, "items", r.proposal)),
        (Kind::Proposal, Change) => status(
            api.post_json(
                &format!("/proposals/{}/reject", r.proposal),
                &json!({ "reason": "矩阵" }),
            )
            .await,
        ),
        (Kind::PersonAccess, List) => Some(holds(
            &api.get("/me/record/access").await,
            "items",
            r.person_access,
        )),
        (Kind::Job, List) => Some(holds(&api.get("/jobs").await, "items", r.job)),
        (Kind::Job, Show) => status(api.get(&format!("/jobs/{}", r.job)).await),
        (Kind::Job, Change) => status(
            api.post_json(&format!("/jobs/{}/retry", r.job), &json!({}))
                .await,
        ),
        (Kind::Notification, List) => Some(holds(
            &api.get("/me/notifications").await,
            "items",
            r.notification,
        )),
        (Kind::Notification, Change) => status(
            api.post_json(
                &format!("/me/notifications/{}/read", r.notification),
                &json!({}),
            )
            .await,
        ),
        (Kind::Channel, List) => Some(holds(
            &api.get(&format!("/units/{}/channels", r.unit)).await,
            "items",
            r.channel,
        )),
        (Kind::Channel, Delete) => status(api.delete(&format!("/channels/{}", r.channel)).await),
        (Kind::Case, List) => Some(holds(&api.get("/cases").await, "items", r.case)),
        (Kind::Case, Show) => status(api.get(&format!("/cases/{}", r.case)).await),
        // Staff write an internal note; the submitter adds to their own case.
        (Kind::Case, Change) => status(
            api.post_json(
                &format!("/cases/{}/replies", r.case),
                &json!({ "body": "补充一句", "internal": !owner }),
            )
            .await,
        ),
        (Kind::Department, List) => {
            Some(holds(&api.get("/departments").await, "items", r.department))
        }
        (Kind::Department, Delete) => {
            status(api.delete(&format!("/departments/{}", r.department)).await)
        }
        (Kind::ResearchTopic, List) => {
            Some(holds(&api.get("/research-topics").await, "items", r.topic))
        }
        (Kind::ResearchTopic, Show) => {
            status(api.get(&format!("/research-topics/{}", r.topic)).await)
        }
        (Kind::ResearchTopic, Change) => status(
            api.put_json(
                &format!("/research-topics/{}", r.topic),
                &json!({ "title": "城郊农村养老服务调研", "body": "了解农村互助养老现状。",
                         "due_on": "2026-12-31" }),
            )
            .await,
        ),
        (Kind::Survey, List) => Some(holds(&api.get("/surveys").await, "items", r.survey)),
        (Kind::Survey, Show) => status(api.get(&format!("/surveys/{}", r.survey)).await),
        (Kind::Survey, Change) => status(
            api.post_json(&format!("/surveys/{}/close", r.survey), &json!({}))
                .await,
        ),
        (Kind::AuditEntry, List) => {
            let reply = api.get("/audit?action=organization.create").await;
            let targets: Vec<i64> = if reply.status == StatusCode::OK {
                reply.json()["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|e| e["target"]["id"].as_i64())
                    .collect()
            } else {
                Vec::new()
            };
            Some(Seen::Listed(targets.contains(&r.organization)))
        }
        _ => None,
    }
}

/// Puts back what a successful change or delete altered, as the city administrator (or the
/// owner, who proposes again).
async fn restore(app: &TestApp, kind: Kind, admin: &Api, owner: &Api, r: &mut Records) {
    match kind {
        // Retried, it fails again at once: no handler knows its kind.
        Kind::Job => common::records::wait_failed(app, r.job).await,
        Kind::Person => {
            let reply = admin
                .post_json(&format!("/people/{}/restore", r.person), &json!({}))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        Kind::Organization => {
            let reply = admin
                .post_json(
                    &format!("/organizations/{}/restore", r.organization),
                    &json!({}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        Kind::Campaign => {
            let reply = admin
                .post_json(&format!("/campaigns/{}/restore", r.campaign), &json!({}))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        Kind::Affiliation => r.affiliation = affiliate(admin, r.person, r.organization).await,
        Kind::SavedFilter => r.saved_filter = save_filter(admin, r.unit).await,
        Kind::Channel => r.channel = common::records::add_channel(admin, r.unit).await,
        Kind::Proposal => r.proposal = propose(owner).await,
        Kind::Department => r.department = common::records::add_department(admin).await,
        // A closed survey stays closed: the next probe gets a new one.
        Kind::Survey => {
            r.survey = common::records::publish_survey(admin, app.unit("150102").await.id).await;
        }
        _ => {}
    }
}

/// Whether the role holds a grant of this declaration for seeing (or changing) through the
/// staff routes: an actor without one may be refused by role (403) before any record is looked
/// at. A member's own records are reached through the member's routes (`/me/...`) instead.
fn role_granted(declaration: &Declaration, role: Role, change: bool) -> bool {
    let grants = if change {
        declaration.change
    } else {
        declaration.see
    };
    grants
        .iter()
        .any(|g| g.roles.contains(&role) && g.reach != Reach::Linked)
}

fn check(kind: Kind, standing: Standing, operation: Operation, seen: &Seen) {
    let declaration = &kind.declaration();
    let context = format!("{kind:?} {operation:?} by {standing:?}");
    let may_see = declaration.may_see(standing);
    match (operation, seen) {
        (Operation::List, Seen::Listed(listed)) => assert_eq!(*listed, may_see, "{context}"),
        (Operation::Show, Seen::Status(status)) => {
            if may_see {
                assert_eq!(*status, StatusCode::OK, "{context}");
            } else if role_granted(declaration, standing.role, false) {
                assert_eq!(*status, StatusCode::NOT_FOUND, "{context}");
            } else {
                assert!(
                    matches!(*status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                    "{context}: {status}"
                );
            }
        }
        (Operation::Change | Operation::Delete, Seen::Status(status)) => {
            if declaration.may_change(standing) {
                assert!(status.is_success(), "{context}: {status}");
            } else if may_see {
                assert_eq!(*status, StatusCode::FORBIDDEN, "{context}");
            } else if role_granted(declaration, standing.role, true)
                && role_granted(declaration, standing.role, false)
            {
                assert_eq!(*status, StatusCode::NOT_FOUND, "{context}");
            } else {
                assert!(
                    matches!(*status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                    "{context}: {status}"
                );
            }
        }
        _ => panic!("{context}: unexpected {seen:?}"),
    }
}

async fn every_kind_answers_as_declared_for_every_role_and_position(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let (mut records, owner) = file_records(&app, &admin).await;

    let places = [
        (Position::Own, "150102"),
        (Position::Ancestor, "150100"),
        (Position::Descendant, "150102001"),
        (Position::Sibling, "150105"),
    ];
    let mut actors = Vec::new();
    for role in Role::ALL {
        for (position, unit) in places {
            let name = format!("matrix.{}.{}", role.as_str(), actors.len());
            account(&app, &name, unit, role).await;
            let standing = Standing {
                role,
                position,
                at_top: position == Position::Ancestor,
                attached: false,
                // The matrix's case is handled by the unit beside the one that received it.
                handling: position == Position::Sibling,
            };
            actors.push((standing, app.api(&name).await, false));
        }
    }
    let owner_standing = Standing {
        role: Role::Member,
        position: Position::Owner,
        at_top: false,
        attached: false,
        handling: false,
    };
    actors.push((owner_standing, owner.clone(), true));

    for kind in Kind::ALL {
        let mut probed = 0;
        for operation in OPERATIONS {
            for (standing, api, is_owner) in &actors {
                let Some(seen) = attempt(kind, operation, api, *is_owner, &records).await else {
                    continue;
                };
                probed += 1;
                check(kind, *standing, operation, &seen);
                if matches!(seen, Seen::Status(s) if s.is_success())
                    && matches!(operation, Operation::Change | Operation::Delete)
                {
                    restore(&app, kind, &admin, &owner, &mut records).await;
                }
            }
        }
        assert!(
            probed > 0,
            "{kind:?} is declared but has no probe in this test"
        );
    }
    app.finish().await;
}

/// A person of 新城区 holding a post in an organization filed in 赛罕区: the city
/// administrator, who sees both, links them. Returns (person, organization).
async fn cross_tree_post(app: &TestApp) -> (i64, i64) {
    let admin = app.api("admin").await;
    let organization = admin
        .post_json(
            "/organizations",
            &json!({ "unit_id": app.unit("150105").await.id, "name": "赛罕区青联", "kind": "other" }),
        )
        .await;
    assert_eq!(
        organization.status,
        StatusCode::CREATED,
        "{}",
        organization.body
    );
    let organization = organization.json()["id"].as_i64().unwrap();
    let person = admin
        .post_json(
            "/people",
            &json!({ "unit_id": app.unit("150102").await.id, "name": "跨区人" }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    affiliate(&admin, person, organization).await;
    (person, organization)
}

async fn a_persons_posts_show_the_organization_to_whoever_sees_the_person(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (person, organization) = cross_tree_post(&app).await;
    let xincheng = app.api("xincheng").await;
    let posts = xincheng
        .get(&format!("/people/{person}/affiliations"))
        .await
        .json();
    assert_eq!(posts["items"][0]["organization"]["name"], "赛罕区青联");
    assert_eq!(posts["items"][0]["position"], "校长");
    // The organization's own page stays with its unit, and the person page does not link it.
    assert_eq!(
        xincheng
            .get(&format!("/organizations/{organization}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let page = app
        .login("xincheng")
        .await
        .get(&format!("/people/{person}"))
        .await;
    assert!(page.body.contains("赛罕区青联"), "{}", page.body);
    assert!(
        !page
            .body
            .contains(&format!("/organizations/{organization}\""))
    );
    // Its members, seen from 赛罕区, do not include a person of 新城区.
    let saihan = app.api("saihan").await;
    let shown = saihan
        .get(&format!("/organizations/{organization}"))
        .await
        .json();
    assert_eq!(shown["members"].as_array().unwrap().len(), 0, "{shown}");
    app.finish().await;
}

async fn search_finds_people_through_any_live_organization(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (person, organization) = cross_tree_post(&app).await;
    let xincheng = app.api("xincheng").await;
    let found = xincheng.get("/people?q=赛罕区青联").await.json();
    assert_eq!(ids(&found, "items"), vec![person], "{found}");
    assert!(
        !found["items"].to_string().contains("赛罕区青联"),
        "{found}"
    );
    // 赛罕区 sees the organization but not the person: its search finds no one.
    let saihan = app.api("saihan").await;
    assert_eq!(saihan.get("/people?q=赛罕区青联").await.json()["total"], 0);
    // An archived organization no longer finds anyone.
    let archived = saihan
        .post_json(
            &format!("/organizations/{organization}/archive"),
            &json!({}),
        )
        .await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.body);
    assert_eq!(
        xincheng.get("/people?q=赛罕区青联").await.json()["total"],
        0
    );
    app.finish().await;
}

async fn materials_open_to_whoever_sees_their_campaign(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (_, sector, ..) = setup(&app).await;
    let admin = app.api("admin").await;
    let city = app.unit("150100").await.id;
    let material = admin
        .post_bytes(
            &format!("/materials?unit_id={city}&file_name=city.txt"),
            "市级学习材料".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(material.status, StatusCode::CREATED, "{}", material.body);
    let material = material.json()["id"].as_i64().unwrap();
    let xincheng = app.api("xincheng").await;
    let saihan = app.api("saihan").await;
    let open = |api: Api, path: String| async move { api.get(&path).await.status };
    let show = format!("/materials/{material}");
    let file = format!("/materials/{material}/file");
    assert_eq!(
        open(xincheng.clone(), show.clone()).await,
        StatusCode::NOT_FOUND
    );
    let campaign = admin
        .post_json(
            "/campaigns",
            &json!({ "unit_id": city, "title": "市级专题", "starts_on": "2026-12-01",
                     "ends_on": "2026-12-31", "target_unit_id": app.unit("150102").await.id,
                     "sector_ids": [sector], "material_ids": [material] }),
        )
        .await;
    assert_eq!(campaign.status, StatusCode::CREATED, "{}", campaign.body);
    let campaign = campaign.json()["id"].as_i64().unwrap();
    let shown = xincheng.get(&format!("/campaigns/{campaign}")).await.json();
    assert_eq!(shown["materials"][0]["id"], material, "{shown}");
    assert_eq!(open(xincheng.clone(), show.clone()).await, StatusCode::OK);
    assert_eq!(open(xincheng.clone(), file.clone()).await, StatusCode::OK);
    // 赛罕区 is not targeted: neither the campaign nor its material.
    assert_eq!(open(saihan.clone(), show).await, StatusCode::NOT_FOUND);
    assert_eq!(open(saihan, file).await, StatusCode::NOT_FOUND);
    app.finish().await;
}

async fn a_damaged_saved_filter_is_refused(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let staff = app.api("xincheng").await;
    let saved = save_filter(&staff, app.unit("150102").await.id).await;
    let raw = app.db.raw().await;
    raw.execute(&format!(
        "UPDATE saved_filters SET tags = 'not json' WHERE id = {saved}"
    ))
    .await;
    let activity = plan(&staff, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let refused = staff
        .post_json(
            &format!("/activities/{activity}/invitations"),
            &json!({ "saved_filter_id": saved }),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.error_code(), "damaged");
    assert_eq!(refused.json()["error"]["field"], "saved_filter");
    assert_eq!(raw.count("SELECT COUNT(*) FROM invitations").await, 0);
    // It is listed as damaged, so it can be recognised and deleted.
    let listed = staff.get("/saved-filters").await.json();
    assert_eq!(listed["items"][0]["damaged"], true, "{listed}");
    // On the activity page too, where staff can delete it.
    let browser = app.login("xincheng").await;
    let page_path = format!("/activities/{activity}");
    let page = browser.get(&page_path).await;
    assert!(page.body.contains("已损坏"), "{}", page.body);
    let by_page = save_filter(&staff, app.unit("150102").await.id).await;
    let forgotten = browser
        .submit(
            &page_path,
            &format!("/activities/{activity}/invitations"),
            &[("by", "forget"), ("saved_filter", &by_page.to_string())],
        )
        .await;
    assert_eq!(
        forgotten.status,
        StatusCode::SEE_OTHER,
        "{}",
        forgotten.body
    );
    assert_eq!(
        staff.get("/saved-filters").await.json()["total"],
        1,
        "the page deleted one"
    );
    assert_eq!(
        staff
            .delete(&format!("/saved-filters/{saved}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.finish().await;
}

engine_tests!(
    every_kind_answers_as_declared_for_every_role_and_position,
    a_persons_posts_show_the_organization_to_whoever_sees_the_person,
    search_finds_people_through_any_live_organization,
    materials_open_to_whoever_sees_their_campaign,
    a_damaged_saved_filter_is_refused,
);
