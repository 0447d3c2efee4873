//! The demo city's direct channel: suggestions, opinion reports, research reports and messages
//! to leadership in every state of their workflow, supervision findings at every step of
//! rectification, leader instructions and adoptions, a pending extension, and a research topic
//! with a team and its report, and an anonymous survey the member has answered. Entered by the district's staff (on behalf of its people), a
//! member of the district, the neighbouring district that handles some, and the city.

use chrono::NaiveDate;
use tongxin_core::{
    CaseType, InstructionLevel, Outcome, Password, Role, Satisfaction, Timestamp, Username,
};
use tongxin_store::{
    Actor, AnswerValue, CaseAction, CaseInput, OutcomeInput, PageRequest, PeopleQuery,
    QuestionInput, QuestionKind, Store, StoreError, SurveyInput, TopicInput,
};

use super::{DemoAccount, DemoError};

/// The district whose staff receive the demo's cases, and the one beside it that handles some.
const RECEIVING: &str = "150102";
const HANDLING: &str = "150105";

/// Every state of the answered workflow, as the path of steps that reaches it.
const ANSWERED_PATHS: [(&str, &[&str]); 10] = [
    ("submitted", &[]),
    ("accepted", &["accept"]),
    ("assigned", &["accept", "assign"]),
    ("escalated", &["accept", "assign", "escalate"]),
    ("answered", &["accept", "assign", "answer"]),
    ("rated", &["accept", "assign", "answer", "rate"]),
    ("closed", &["accept", "assign", "answer", "rate", "close"]),
    ("returned", &["return"]),
    ("merged", &["merge"]),
    ("withdrawn", &["withdraw"]),
];

/// Titles per type, one per state above, and a category for each.
const TITLES: [(CaseType, [&str; 10]); 4] = [
    (
        CaseType::Suggestion,
        [
            "关于在老旧小区加装电梯的建议",
            "关于完善社区嵌入式养老服务的建议",
            "关于优化中小学课后服务的建议",
            "关于推进城市背街小巷改造的建议",
            "关于扩大新能源公交覆盖的建议",
            "关于加强非遗传承人培养的建议",
            "关于建设口袋公园的建议",
            "关于设立夜间经济示范街区的建议",
            "关于老旧小区加装电梯补贴的建议",
            "关于规范共享单车停放的建议",
        ],
    ),
    (
        CaseType::Opinion,
        [
            "群众反映冬季供暖温度不达标",
            "部分小区物业收费不透明",
            "城郊村庄公交班次减少",
            "农贸市场周边交通拥堵",
            "个体工商户反映办证材料繁琐",
            "社区医院夜间无人值守",
            "河道沿岸垃圾清理不及时",
            "外卖骑手反映停车难",
            "供暖温度不达标问题再次反映",
            "新建小区学位紧张",
        ],
    ),
    (
        CaseType::Research,
        [
            "民营企业用工情况调研报告",
            "蒙汉双语教育现状调研",
            "城市社区治理创新调研",
            "乡村旅游发展调研",
            "新的社会阶层人士参与社会服务调研",
            "非公有制经济人士诉求调研",
            "黄河流域生态保护调研",
            "少数民族传统手工艺传承调研",
            "民营企业融资情况调研补充",
            "街道商户经营状况调研",
        ],
    ),
    (
        CaseType::Direct,
        [
            "关于营商环境的几点意见",
            "关于科技人才引进政策的建议",
            "关于民族团结进步教育的思考",
            "关于优化政务服务流程的意见",
            "关于促进民营经济发展的建议",
            "关于加强城市应急管理的意见",
            "关于改善农村人居环境的建议",
            "关于发展现代物流的意见",
            "关于营商环境的补充意见",
            "关于减轻基层负担的意见",
        ],
    ),
];

const CATEGORIES: [&str; 6] = [
    "livelihood",
    "society",
    "economy",
    "governance",
    "ecology",
    "culture",
];

/// The supervision findings: title and how far rectification has gone.
const FINDINGS: [(&str, &str); 6] = [
    ("公交站台无障碍设施缺失", "submitted"),
    ("社区食堂食品安全管理不到位", "assigned"),
    ("农村饮水工程维护不及时", "planned"),
    ("校园周边交通安全隐患", "completed"),
    ("惠企政策落实不到位", "closed"),
    ("重复反映的已办结事项", "returned"),
];

/// The accounts the demo's channel is worked by; the district's staff and the member are
/// handed to the newcomer.
pub struct ChannelAccounts {
    pub staff: DemoAccount,
    pub member: DemoAccount,
}

struct Desk {
    city: Actor,
    receiving: Actor,
    handling: Actor,
    member: Actor,
    handling_unit: i64,
    receiving_unit: i64,
}

async fn account(
    store: &Store,
    now: Timestamp,
    unit: &str,
    name: &str,
    role: Role,
) -> Result<(Actor, DemoAccount), DemoError> {
    let password = tongxin_store::generate_password();
    let view = store
        .add_user_as_system(
            now,
            unit,
            Username::parse(name)?,
            role,
            Password::parse(&password)?,
        )
        .await?;
    let actor = store
        .actor_of_account(view.id)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((
        actor,
        DemoAccount {
            username: name.to_owned(),
            password,
        },
    ))
}

/// A time `days` before `now`.
fn days_ago(now: Timestamp, days: i64) -> Timestamp {
    now.plus_minutes(-days * 24 * 60)
}

impl Desk {
    /// Takes `action` on case `id` at `at`, as whoever may (`submitter` for the submitter's
    /// steps).
    async fn step(
        &self,
        store: &Store,
        at: Timestamp,
        id: i64,
        action: &str,
        other: Option<i64>,
        submitter: &Actor,
    ) -> Result<(), DemoError> {
        let (actor, step) = match action {
            "accept" | "close" => (&self.receiving, CaseAction::default()),
            "return" => (
                &self.receiving,
                CaseAction {
                    body: Some("已由相关部门办结，不再重复受理。".to_owned()),
                    ..CaseAction::default()
                },
            ),
            "merge" => (
                &self.receiving,
                CaseAction {
                    merge_into: other,
                    ..CaseAction::default()
                },
            ),
            "withdraw" | "rate" => (
                submitter,
                CaseAction {
                    satisfaction: Some(Satisfaction::Satisfied),
                    ..CaseAction::default()
                },
            ),
            // Every other case goes to the district beside it, through the city.
            "assign" if id % 2 == 0 => (
                &self.city,
                CaseAction {
                    unit_id: Some(self.handling_unit),
                    ..CaseAction::default()
                },
            ),
            "assign" => (
                &self.receiving,
                CaseAction {
                    unit_id: Some(self.receiving_unit),
                    ..CaseAction::default()
                },
            ),
            "escalate" | "answer" | "plan" | "complete" => (
                self.handler(id),
                CaseAction {
                    body: Some(
                        match action {
                            "answer" => {
                                "经研究，已纳入明年工作计划并安排专项资金，具体进展将及时反馈。"
                            }
                            "complete" => "整改已全部完成，佐证材料已上传。",
                            "plan" => "已制定整改方案，分三步落实。",
                            _ => "请上级协调相关部门共同办理。",
                        }
                        .to_owned(),
                    ),
                    ..CaseAction::default()
                },
            ),
            "verify" => (&self.receiving, CaseAction::default()),
            other => {
                return Err(DemoError::Store(StoreError::Corrupt {
                    what: format!("demo step {other}"),
                }));
            }
        };
        let step = CaseAction {
            action: action.to_owned(),
            ..step
        };
        store.act_on_case(actor, at, at.date(), id, &step).await?;
        Ok(())
    }

    /// The staff who handle case `id`: the district beside for even ids, the district itself
    /// otherwise (as `assign` decided).
    fn handler(&self, id: i64) -> &Actor {
        if id % 2 == 0 {
            &self.handling
        } else {
            &self.receiving
        }
    }
}

/// Loads the channel and returns the accounts a newcomer may use to see it from each side.
pub async fn load(store: &Store, now: Timestamp) -> Result<ChannelAccounts, DemoError> {
    let system = Actor::system("demo");
    let (receiving, staff) = account(store, now, RECEIVING, "xincheng", Role::Staff).await?;
    let (handling, _) = account(store, now, HANDLING, "saihan", Role::Staff).await?;
    let (city, _) = account(store, now, "150100", "city.staff", Role::Staff).await?;
    let receiving_unit = store.unit_by_code(&system, RECEIVING).await?.id;
    let people = store
        .search_people(
            &system,
            &PeopleQuery {
                unit_id: Some(receiving_unit),
                ..PeopleQuery::default()
            },
            PageRequest::new(None, Some(50)),
            now,
        )
        .await?
        .items;
    let (unlinked, member) = account(store, now, RECEIVING, "member", Role::Member).await?;
    // A demo of (almost) no one has nobody in the district: no channel, as no campaign.
    let people: Vec<i64> = people.into_iter().map(|p| p.id).collect();
    let Some(&first) = people.first() else {
        return Ok(ChannelAccounts { staff, member });
    };
    store
        .link_member(&system, now, first, &Username::parse("member")?)
        .await?;
    let member_actor = store
        .actor_of_account(unlinked.user_id().ok_or(StoreError::NotFound)?)
        .await?
        .ok_or(StoreError::NotFound)?;
    let desk = Desk {
        handling_unit: store.unit_by_code(&system, HANDLING).await?.id,
        receiving_unit,
        city,
        receiving,
        handling,
        member: member_actor,
    };

    let mut n = 0usize;
    for (case_type, titles) in TITLES {
        let mut first_open = None;
        for ((state, path), title) in ANSWERED_PATHS.iter().zip(titles) {
            n += 1;
            let person = people[n % people.len()];
            let start = days_ago(now, 30 - (n % 20) as i64);
            let (id, by_member) = submit(store, &desk, start, case_type, title, n, person).await?;
            let submitter = if by_member {
                &desk.member
            } else {
                &desk.receiving
            };
            if *state == "submitted" {
                first_open = Some(id);
            }
            for (k, action) in path.iter().enumerate() {
                let at = start.plus_minutes((k as i64 + 1) * 24 * 60);
                desk.step(store, at, id, action, first_open, submitter)
                    .await?;
            }
            if matches!(*state, "rated" | "closed") {
                outcomes(store, &desk, now, id, n).await?;
            }
            if *state == "assigned" && case_type == CaseType::Suggestion {
                let due = store.case(desk.handler(id), now.date(), id).await?.due_on;
                if let Some(due) = due.and_then(|d| d.checked_add_days(chrono::Days::new(10))) {
                    store
                        .request_extension(
                            desk.handler(id),
                            now,
                            id,
                            due,
                            "需协调多个部门，申请延期十个工作日。",
                        )
                        .await?;
                }
            }
        }
    }
    for (k, (title, reached)) in FINDINGS.iter().enumerate() {
        let person = people[k % people.len()];
        let start = days_ago(now, 25 - k as i64);
        let (id, _) = submit(store, &desk, start, CaseType::Supervision, title, k, person).await?;
        rectify(store, &desk, start, id, reached).await?;
    }
    research(store, &desk, now).await?;
    survey(store, &desk, now).await?;
    Ok(ChannelAccounts { staff, member })
}

async fn submit(
    store: &Store,
    desk: &Desk,
    at: Timestamp,
    case_type: CaseType,
    title: &str,
    n: usize,
    person: i64,
) -> Result<(i64, bool), DemoError> {
    // Most are entered by the district's staff for its people; a few by the member.
    let by_member = n % 7 == 3 && case_type != CaseType::Supervision;
    let input = CaseInput {
        case_type,
        title: title.to_owned(),
        body: format!(
            "{title}。具体情况如下：经走访了解，群众对此反映较为集中，建议有关部门研究解决。"
        ),
        category: CATEGORIES[n % CATEGORIES.len()].to_owned(),
        submitter_id: (!by_member).then_some(person),
        cosubmitter_ids: Vec::new(),
        name_withheld: n.is_multiple_of(5),
        receiving_unit_id: (!by_member).then_some(desk.receiving_unit),
        attachment: None,
        topic_id: None,
    };
    let actor = if by_member {
        &desk.member
    } else {
        &desk.receiving
    };
    Ok((
        store.submit_case(actor, at, at.date(), &input).await?.id,
        by_member,
    ))
}

/// A leader's instruction on some answered cases, adoption or publication on others.
async fn outcomes(
    store: &Store,
    desk: &Desk,
    now: Timestamp,
    id: i64,
    n: usize,
) -> Result<(), DemoError> {
    let (outcome, level, summary, reference) = match n % 3 {
        0 => (
            Outcome::Instruction,
            Some(if n.is_multiple_of(2) {
                InstructionLevel::City
            } else {
                InstructionLevel::Region
            }),
            "请有关部门认真研究吸纳。",
            "领导批示件〔2026〕第 17 号",
        ),
        1 => (
            Outcome::Adoption,
            None,
            "已吸纳进入年度民生实事项目。",
            "市政府办公室通知〔2026〕45 号",
        ),
        _ => (
            Outcome::Bulletin,
            None,
            "刊发于《统战信息》。",
            "《统战信息》2026 年第 9 期",
        ),
    };
    store
        .record_outcome(
            &desk.receiving,
            now,
            now.date(),
            id,
            &OutcomeInput {
                outcome,
                level,
                on: now.date(),
                summary: summary.to_owned(),
                reference: Some(reference.to_owned()),
                file_id: None,
            },
        )
        .await?;
    Ok(())
}

/// Takes a supervision finding as far as `reached`.
async fn rectify(
    store: &Store,
    desk: &Desk,
    start: Timestamp,
    id: i64,
    reached: &str,
) -> Result<(), DemoError> {
    let day = |k: i64| start.plus_minutes(k * 24 * 60);
    match reached {
        "submitted" => return Ok(()),
        "returned" => {
            return desk
                .step(store, day(1), id, "return", None, &desk.receiving)
                .await;
        }
        _ => {
            desk.step(store, day(1), id, "assign", None, &desk.receiving)
                .await?
        }
    }
    if reached == "assigned" {
        return Ok(());
    }
    let handler = desk.handler(id);
    let mut steps = Vec::new();
    for (k, title) in ["排查问题清单", "制定整改措施并落实", "建立长效机制"]
        .into_iter()
        .enumerate()
    {
        let due: NaiveDate = day(10 + 5 * k as i64).date();
        steps.push(
            store
                .add_plan_step(handler, day(2), id, title, due)
                .await?
                .id,
        );
    }
    desk.step(store, day(2), id, "plan", None, &desk.receiving)
        .await?;
    if reached == "planned" {
        return store
            .complete_plan_step(
                handler,
                day(4),
                id,
                steps[0],
                Some("已形成问题清单 12 项"),
                None,
            )
            .await
            .map(|_| ())
            .map_err(DemoError::from);
    }
    for (k, step) in steps.iter().enumerate() {
        store
            .complete_plan_step(
                handler,
                day(5 + k as i64),
                id,
                *step,
                Some("已完成，现场照片及台账已归档"),
                None,
            )
            .await?;
    }
    desk.step(store, day(9), id, "complete", None, &desk.receiving)
        .await?;
    if reached == "completed" {
        return Ok(());
    }
    for step in &steps {
        store
            .check_plan_step(&desk.receiving, day(10), id, *step, true, None)
            .await?;
    }
    desk.step(store, day(11), id, "verify", None, &desk.receiving)
        .await
}

/// A city research topic, a team of the member and two others, and their report.
async fn research(store: &Store, desk: &Desk, now: Timestamp) -> Result<(), DemoError> {
    let due = now
        .date()
        .checked_add_days(chrono::Days::new(30))
        .unwrap_or(now.date());
    let topic = store
        .publish_topic(
            &desk.city,
            days_ago(now, 20),
            days_ago(now, 20).date(),
            &TopicInput {
                unit_id: None,
                title: "新时代统一战线助力乡村振兴调研".to_owned(),
                body: "围绕乡村产业、人才、文化、生态、组织振兴，深入基层开展调研，形成有分量的调研报告。"
                    .to_owned(),
                due_on: due,
            },
        )
        .await?;
    store
        .publish_topic(
            &desk.receiving,
            days_ago(now, 10),
            days_ago(now, 10).date(),
            &TopicInput {
                unit_id: None,
                title: "社区居家养老服务现状调研".to_owned(),
                body: "了解辖区居家养老服务供给与需求，提出改进建议。".to_owned(),
                due_on: due,
            },
        )
        .await?;
    store
        .form_team(
            &desk.member,
            days_ago(now, 15),
            days_ago(now, 15).date(),
            topic.id,
            "乡村振兴调研组",
        )
        .await?;
    let report = CaseInput {
        case_type: CaseType::Research,
        title: "乡村振兴中的人才回流问题调研报告".to_owned(),
        body:
            "调研组走访 6 个乡镇、20 个行政村，发现青年人才回流意愿强但配套不足，提出三方面建议。"
                .to_owned(),
        category: "economy".to_owned(),
        submitter_id: None,
        cosubmitter_ids: Vec::new(),
        name_withheld: false,
        receiving_unit_id: None,
        attachment: None,
        topic_id: Some(topic.id),
    };
    store
        .submit_case(
            &desk.member,
            days_ago(now, 3),
            days_ago(now, 3).date(),
            &report,
        )
        .await?;
    Ok(())
}

/// An anonymous survey of the district, answered by the member.
async fn survey(store: &Store, desk: &Desk, now: Timestamp) -> Result<(), DemoError> {
    let published = days_ago(now, 5);
    let question = |kind, prompt: &str, choices: &[&str]| QuestionInput {
        kind,
        prompt: prompt.to_owned(),
        choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        required: kind != QuestionKind::Text,
    };
    let survey = store
        .publish_survey(
            &desk.receiving,
            published,
            published.date(),
            &SurveyInput {
                unit_id: None,
                title: "2026 年度学习活动需求调查".to_owned(),
                intro: "为安排好明年的学习活动，请花两分钟填写。问卷匿名。".to_owned(),
                anonymous: true,
                target_unit_id: None,
                sector_ids: Vec::new(),
                tags: Vec::new(),
                closes_on: now
                    .date()
                    .checked_add_days(chrono::Days::new(14))
                    .unwrap_or(now.date()),
                questions: vec![
                    question(
                        QuestionKind::Single,
                        "您对今年的学习活动总体满意吗？",
                        &["满意", "基本满意", "不满意"],
                    ),
                    question(
                        QuestionKind::Multiple,
                        "您希望增加哪些形式？",
                        &["专题讲座", "读书会", "实地考察", "线上学习"],
                    ),
                    question(QuestionKind::Text, "其他意见和建议", &[]),
                ],
            },
        )
        .await?;
    let ids: Vec<i64> = survey.questions.iter().map(|q| q.id).collect();
    let answers = [
        (ids[0], AnswerValue::Choices(vec![0])),
        (ids[1], AnswerValue::Choices(vec![0, 2])),
        (
            ids[2],
            AnswerValue::Text("希望多组织实地考察，时间安排在周末。".to_owned()),
        ),
    ]
    .into_iter()
    .collect();
    store
        .answer_survey(
            &desk.member,
            days_ago(now, 2),
            days_ago(now, 2).date(),
            survey.id,
            &answers,
        )
        .await?;
    Ok(())
}
