//! The demo city: Hohhot (150100) with its nine real county-level units and generated
//! township- and village-level units, deterministic for a given seed.

mod activities;
mod cases;
mod organizations;

use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tongxin_core::{FieldKind, Gender, IdNumber, MobilePhone, id_check_character};
use tongxin_core::{Invalid, Password, Role, SectorCode, Timestamp, UnitCode, UnitName, Username};
use tongxin_store::{
    Actor, Membership, PageRequest, PersonInput, SectorFieldInput, SectorFieldView, SectorView,
    Store, StoreError, UnitQuery, UnitSeed,
};

/// The kind of a county-level unit decides what its townships and villages are called.
#[derive(Clone, Copy)]
enum CountyKind {
    /// 区: mostly streets (街道) with communities, a town or two on the edge.
    District,
    /// 县: towns and townships with villages.
    County,
    /// 旗: towns and sumu, with villages and gacha.
    Banner,
}

const COUNTIES: [(&str, &str, CountyKind); 9] = [
    ("150102", "新城区", CountyKind::District),
    ("150103", "回民区", CountyKind::District),
    ("150104", "玉泉区", CountyKind::District),
    ("150105", "赛罕区", CountyKind::District),
    ("150121", "土默特左旗", CountyKind::Banner),
    ("150122", "托克托县", CountyKind::County),
    ("150123", "和林格尔县", CountyKind::County),
    ("150124", "清水河县", CountyKind::County),
    ("150125", "武川县", CountyKind::County),
];

/// Place-name stems, in the style of the region's street, town and village names.
const STEMS: [&str; 96] = [
    "东风",
    "新华",
    "团结",
    "兴隆",
    "和平",
    "建设",
    "胜利",
    "红旗",
    "光明",
    "友谊",
    "前进",
    "民族",
    "太平",
    "富民",
    "永丰",
    "长青",
    "金桥",
    "乌兰",
    "巴彦",
    "哈拉",
    "沙尔",
    "毕克齐",
    "察素齐",
    "白庙子",
    "塔布赛",
    "善岱",
    "台阁牧",
    "北什轴",
    "敕勒川",
    "大青山",
    "昭君",
    "石羊",
    "南柴",
    "西把栅",
    "后桃花",
    "大台什",
    "小黑河",
    "黄合少",
    "榆林",
    "金河",
    "西讨号",
    "讨思浩",
    "舍必崖",
    "盛乐",
    "新店子",
    "城关",
    "喇嘛湾",
    "窑沟",
    "北堡",
    "韭菜庄",
    "五申",
    "燕山营",
    "双古城",
    "兴旺",
    "五家",
    "新营",
    "古城",
    "伍什家",
    "河口",
    "中滩",
    "宏丰",
    "丰泽",
    "如意",
    "东瓦窑",
    "西河沿",
    "海拉尔",
    "锡林",
    "通道",
    "攸攸板",
    "公主府",
    "成吉思汗",
    "腾飞",
    "南茶坊",
    "西菜园",
    "桥华",
    "大学",
    "中专",
    "人民",
    "学府",
    "滨河",
    "草原",
    "阳光",
    "祥和",
    "康乐",
    "振华",
    "乌素图",
    "坝口子",
    "保全庄",
    "什拉门更",
    "哈素",
    "可可以力更",
    "耳沁尧",
    "德胜",
    "上秃亥",
    "得胜沟",
    "大豆铺",
];

/// The demo's sectors (界别), in display order: code and name.
const SECTORS: [(&str, &str); 11] = [
    ("minzhu", "民主党派"),
    ("wudangpai", "无党派人士"),
    ("dangwai", "党外知识分子"),
    ("feigong", "非公有制经济人士"),
    ("xinjieceng", "新的社会阶层人士"),
    ("minzu", "民族界"),
    ("zongjiao", "宗教界"),
    ("gangaotai", "港澳台同胞"),
    ("guiqiao", "归侨侨眷"),
    ("liuxue", "出国和归国留学人员"),
    ("shanghui", "工商联与商会"),
];

/// A sector's own field in the demo: sector code, key, label, kind, required, choices.
type DemoField = (
    &'static str,
    &'static str,
    &'static str,
    FieldKind,
    bool,
    &'static [&'static str],
);

/// The demo sectors' own fields.
const SECTOR_FIELDS: [DemoField; 5] = [
    (
        "minzhu",
        "party",
        "所属党派",
        FieldKind::Choice,
        true,
        &[
            "民革",
            "民盟",
            "民建",
            "民进",
            "农工党",
            "致公党",
            "九三学社",
            "台盟",
        ],
    ),
    (
        "shanghui",
        "size",
        "企业规模",
        FieldKind::Choice,
        false,
        &["大型", "中型", "小型", "微型"],
    ),
    (
        "shanghui",
        "employees",
        "职工人数",
        FieldKind::Number,
        false,
        &[],
    ),
    (
        "liuxue",
        "countries",
        "留学国家和地区",
        FieldKind::Choices,
        false,
        &[
            "美国",
            "英国",
            "日本",
            "德国",
            "俄罗斯",
            "蒙古国",
            "澳大利亚",
        ],
    ),
    (
        "liuxue",
        "returned",
        "回国时间",
        FieldKind::Date,
        false,
        &[],
    ),
];

/// Villages per township, inclusive range.
const VILLAGES: (usize, usize) = (4, 10);

fn townships(kind: CountyKind, rng: &mut ChaCha8Rng) -> Vec<(&'static str, u32)> {
    // (suffix, first code number): streets 001…, towns 100…, townships and sumu 200….
    // The first township of each kind is fixed so every seed shows the kind's names.
    let count = rng.random_range(6..=11);
    (0..count)
        .map(|i| {
            let roll = rng.random_range(0..10);
            match kind {
                CountyKind::District if roll < 8 || i < 3 => ("街道", 1),
                CountyKind::District => ("镇", 100),
                CountyKind::County if roll < 6 || i == 0 => ("镇", 100),
                CountyKind::County => ("乡", 200),
                CountyKind::Banner if i == 0 || roll < 4 => ("苏木", 200),
                CountyKind::Banner => ("镇", 100),
            }
        })
        .collect()
}

fn village_suffix(township_suffix: &str, first: bool, rng: &mut ChaCha8Rng) -> (&'static str, u32) {
    let roll = rng.random_range(0..10);
    match township_suffix {
        "街道" => ("社区", 1),
        "苏木" if first || roll < 7 => ("嘎查", 200),
        _ if roll < 2 => ("社区", 1),
        _ => ("村", 200),
    }
}

/// Picks a stem not yet used among `taken`.
fn fresh_stem(rng: &mut ChaCha8Rng, taken: &mut Vec<&'static str>) -> &'static str {
    loop {
        let stem = STEMS.choose(rng).copied().unwrap_or("新");
        if !taken.contains(&stem) || taken.len() >= STEMS.len() {
            taken.push(stem);
            return stem;
        }
    }
}

fn seed(code: String, name: String, children: Vec<UnitSeed>) -> Result<UnitSeed, Invalid> {
    Ok(UnitSeed {
        code: UnitCode::parse(&code)?,
        name: UnitName::parse(&name)?,
        children,
    })
}

/// The demo tree for `seed_value`.
pub fn city(seed_value: u64) -> Result<UnitSeed, Invalid> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed_value);
    let mut counties = Vec::new();
    for (code, name, kind) in COUNTIES {
        let mut taken = Vec::new();
        let mut next_number = [0u32; 3];
        let mut township_seeds = Vec::new();
        for (suffix, base) in townships(kind, &mut rng) {
            let slot = usize::try_from(base / 100).unwrap_or(0).min(2);
            next_number[slot] += 1;
            let t_code = format!("{code}{:03}", base + next_number[slot] - 1);
            let t_name = format!("{}{suffix}", fresh_stem(&mut rng, &mut taken));
            let mut village_taken = Vec::new();
            let mut village_number = [0u32; 3];
            let mut villages = Vec::new();
            for i in 0..rng.random_range(VILLAGES.0..=VILLAGES.1) {
                let (v_suffix, v_base) = village_suffix(suffix, i == 0, &mut rng);
                let v_slot = usize::try_from(v_base / 100).unwrap_or(0).min(2);
                village_number[v_slot] += 1;
                let v_code = format!("{t_code}{:03}", v_base + village_number[v_slot] - 1);
                let v_name = format!("{}{v_suffix}", fresh_stem(&mut rng, &mut village_taken));
                villages.push(seed(v_code, v_name, Vec::new())?);
            }
            township_seeds.push(seed(t_code, t_name, villages)?);
        }
        counties.push(seed(code.to_owned(), name.to_owned(), township_seeds)?);
    }
    seed("150100".into(), "呼和浩特市".into(), counties)
}

/// Surnames, most common first (a rough frequency order).
const SURNAMES: &str = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文";
/// Characters of given names as men's names are commonly written.
pub const MALE_GIVEN: &str = "伟强磊军洋勇杰涛明超刚华建国志斌文博宇浩然思远东立新振永峰鹏辉俊";
/// Characters of given names as women's names are commonly written.
pub const FEMALE_GIVEN: &str = "芳娜秀英敏静丽艳娟霞兰桂红梅玉燕琴慧雅婷颖洁倩晶莉萍";
/// Mongolian names as commonly written in Chinese characters, men's and women's.
pub const MONGOLIAN_MALE: [&str; 12] = [
    "巴特尔",
    "朝鲁",
    "毕力格",
    "巴雅尔",
    "孟和",
    "宝音",
    "吉日嘎拉",
    "哈斯朝鲁",
    "达来",
    "额尔敦",
    "那仁满都拉",
    "苏日勒",
];
pub const MONGOLIAN_FEMALE: [&str; 10] = [
    "斯琴高娃",
    "其其格",
    "萨仁",
    "图雅",
    "其木格",
    "乌兰",
    "敖登",
    "高娃",
    "娜仁",
    "萨仁高娃",
];

/// Where people work and the titles they hold there, in groups that go with sectors.
type Profession = (&'static str, &'static [&'static str]);
const ACADEMIC: [Profession; 7] = [
    ("内蒙古大学", &["教授", "副教授", "讲师"]),
    ("内蒙古师范大学", &["教授", "副教授", "讲师"]),
    ("内蒙古农业大学", &["教授", "副教授", "高级农艺师"]),
    (
        "内蒙古医科大学附属医院",
        &["主任医师", "副主任医师", "主治医师"],
    ),
    ("呼和浩特市第一中学", &["高级教师", "教师"]),
    ("内蒙古日报社", &["主任编辑", "编辑", "记者"]),
    ("社区卫生服务中心", &["医师", "护士长"]),
];
const BUSINESS: [Profession; 5] = [
    ("伊利实业集团", &["部门经理", "高级工程师"]),
    ("蒙牛乳业", &["部门经理", "工程师"]),
    ("内蒙古草原兴发商贸有限公司", &["董事长", "总经理"]),
    (
        "呼和浩特市金桥电子科技有限公司",
        &["董事长", "总经理", "副总经理"],
    ),
    ("个体经营", &["店主", "负责人"]),
];
const NEW_STRATUM: [Profession; 3] = [
    ("内蒙古正大律师事务所", &["律师", "合伙人"]),
    ("内蒙古中天会计师事务所", &["注册会计师", "合伙人"]),
    ("自由职业", &["设计师", "撰稿人"]),
];
const RELIGIOUS: [Profession; 2] = [
    ("呼和浩特市佛教协会", &["副会长", "理事"]),
    ("呼和浩特市伊斯兰教协会", &["副会长", "理事"]),
];

/// The professions people of a sector are drawn from (no sector: any but the religious).
fn professions(sector: Option<&str>) -> Vec<Profession> {
    match sector {
        Some("minzhu" | "wudangpai" | "dangwai" | "liuxue") => ACADEMIC.to_vec(),
        Some("feigong" | "shanghui") => BUSINESS.to_vec(),
        Some("xinjieceng") => NEW_STRATUM.to_vec(),
        Some("zongjiao") => RELIGIOUS.to_vec(),
        _ => ACADEMIC.iter().chain(&BUSINESS).copied().collect(),
    }
}

/// Every (employer, title) pair the demo hands out.
pub fn professions_all() -> impl Iterator<Item = (&'static str, &'static str)> {
    ACADEMIC
        .iter()
        .chain(&BUSINESS)
        .chain(&NEW_STRATUM)
        .chain(&RELIGIOUS)
        .flat_map(|(employer, titles)| titles.iter().map(move |title| (*employer, *title)))
}

/// The full name of a democratic party member's affiliation, by the party's short name (the
/// choices of the 民主党派 sector's own field).
pub fn party_affiliation(party: &str) -> Option<&'static str> {
    Some(match party {
        "民革" => "中国国民党革命委员会会员",
        "民盟" => "中国民主同盟盟员",
        "民建" => "中国民主建国会会员",
        "民进" => "中国民主促进会会员",
        "农工党" => "中国农工民主党党员",
        "致公党" => "中国致公党党员",
        "九三学社" => "九三学社社员",
        "台盟" => "台湾民主自治同盟盟员",
        _ => return None,
    })
}

const EDUCATION: [&str; 4] = ["大学本科", "硕士研究生", "博士研究生", "大学专科"];
const ROLES: [&str; 5] = ["委员", "会员", "理事", "常务理事", "副会长"];

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

fn pick_char(rng: &mut ChaCha8Rng, chars: &str) -> char {
    let all: Vec<char> = chars.chars().collect();
    all.choose(rng).copied().unwrap_or('伟')
}

/// Where demo people go: the townships and villages of a loaded demo city (code and id), and
/// its sectors.
pub struct Population {
    pub units: Vec<(String, i64)>,
    pub sectors: Vec<SectorView>,
}

impl Population {
    /// The population of the city loaded in `store`.
    pub async fn of(store: &Store) -> Result<Population, DemoError> {
        let system = Actor::system("demo");
        let sectors = store.sectors(&system, false).await?;
        let mut units = Vec::new();
        let mut page = 1;
        loop {
            let batch = store
                .units(
                    &system,
                    &UnitQuery::default(),
                    PageRequest::new(Some(page), Some(PageRequest::MAX_PER_PAGE)),
                )
                .await?;
            let done = batch.items.len() < PageRequest::MAX_PER_PAGE as usize;
            units.extend(
                batch
                    .items
                    .into_iter()
                    .filter(|u| u.level >= tongxin_core::UnitLevel::Township)
                    .map(|u| (u.code, u.id)),
            );
            if done {
                return Ok(Population { units, sectors });
            }
            page += 1;
        }
    }

    /// Makes people for this population, deterministically for the seed.
    pub fn maker(&self, seed_value: u64, today: chrono::NaiveDate) -> PeopleMaker<'_> {
        PeopleMaker::new(seed_value, &self.units, &self.sectors, today)
    }
}

/// Believable people spread over the given units, made a chunk at a time so a million of
/// them never sit in memory together; deterministic for the seed.
pub struct PeopleMaker<'a> {
    rng: ChaCha8Rng,
    units: &'a [(String, i64)],
    sectors: &'a [SectorView],
    today: chrono::NaiveDate,
    /// ID numbers handed out so far (a repeat is left out rather than invented anew).
    issued: std::collections::HashSet<String>,
    made: usize,
}

impl<'a> PeopleMaker<'a> {
    fn new(
        seed_value: u64,
        units: &'a [(String, i64)],
        sectors: &'a [SectorView],
        today: chrono::NaiveDate,
    ) -> Self {
        PeopleMaker {
            rng: ChaCha8Rng::seed_from_u64(seed_value ^ 0x7065_6f70_6c65),
            units,
            sectors,
            today,
            issued: std::collections::HashSet::new(),
            made: 0,
        }
    }

    /// The next `count` people, each with the line it would have in a file.
    pub fn chunk(&mut self, count: usize) -> Vec<(usize, PersonInput)> {
        (0..count).map_while(|_| self.person()).collect()
    }

    fn person(&mut self) -> Option<(usize, PersonInput)> {
        use chrono::Datelike;
        let rng = &mut self.rng;
        let (unit_code, unit_id) = self.units.choose(rng)?;
        let female = rng.random_bool(0.45);
        let sector = self.sectors.choose(rng).filter(|_| rng.random_bool(0.8));
        let sector_code = sector.map(|s| s.code.as_str());
        let mongolian_share = if sector_code == Some("minzu") {
            0.6
        } else {
            0.1
        };
        let name = if rng.random_bool(mongolian_share) {
            pick(
                rng,
                if female {
                    &MONGOLIAN_FEMALE
                } else {
                    &MONGOLIAN_MALE
                },
            )
            .to_owned()
        } else {
            let given = if female { FEMALE_GIVEN } else { MALE_GIVEN };
            let mut name = String::new();
            name.push(pick_char(rng, SURNAMES));
            name.push(pick_char(rng, given));
            if rng.random_bool(0.6) {
                name.push(pick_char(rng, given));
            }
            name
        };
        let age = rng.random_range(23..75);
        let year = self.today.year() - age;
        let birth = chrono::NaiveDate::from_ymd_opt(
            year,
            rng.random_range(1..=12),
            rng.random_range(1..=28),
        )
        .unwrap_or(self.today);
        // Sequence digits: unique per person; the last one's parity encodes the gender.
        let sequence = (self.made % 500) * 2 + usize::from(!female);
        let first17 = format!(
            "{}{}{:03}",
            &unit_code[..6],
            birth.format("%Y%m%d"),
            sequence % 1000
        );
        let id_number = format!("{first17}{}", id_check_character(&first17).unwrap_or('0'));
        let phone = format!(
            "1{}{:09}",
            pick(rng, &["3", "5", "8", "9"]),
            rng.random_range(0..1_000_000_000u64)
        );
        let mut memberships = Vec::new();
        let mut party = None;
        if let Some(sector) = sector {
            let values: std::collections::BTreeMap<String, String> = sector
                .active_fields()
                .filter_map(|field| Some((field.key.clone(), demo_value(rng, field, self.today)?)))
                .collect();
            party = values
                .get("party")
                .and_then(|value| party_affiliation(value));
            memberships.push(Membership {
                sector_id: sector.id,
                values,
                role: Some(pick(rng, &ROLES).to_owned()),
                since: chrono::NaiveDate::from_ymd_opt(
                    self.today.year() - rng.random_range(0..15),
                    1,
                    1,
                ),
            });
        }
        // Affiliation follows the sector: a party's member in 民主党派, 无党派人士 where the
        // sector says so, the masses otherwise.
        let affiliation = match (party, sector_code) {
            (Some(party), _) => party,
            (None, Some("wudangpai" | "dangwai")) => "无党派人士",
            _ => "群众",
        };
        let (employer, titles) = *professions(sector_code).choose(rng)?;
        let title = pick(rng, titles);
        let education = match title {
            "教授" | "主任医师" => "博士研究生",
            "副教授" | "讲师" | "副主任医师" => "硕士研究生",
            _ => pick(rng, &EDUCATION),
        };
        let mut tag_choices = vec!["代表人士", "新任"];
        if female {
            tag_choices.push("女性");
        }
        if age < 40 {
            tag_choices.push("青年");
        }
        if matches!(title, "教授" | "主任医师" | "高级工程师" | "高级农艺师") {
            tag_choices.push("专家");
        }
        let tags = if rng.random_bool(0.4) {
            vec![pick(rng, &tag_choices).to_owned()]
        } else {
            Vec::new()
        };
        let i = self.made;
        self.made += 1;
        Some((
            i + 2,
            PersonInput {
                unit_id: *unit_id,
                name,
                gender: Some(if female { Gender::Female } else { Gender::Male }),
                birth_date: Some(birth),
                education: Some(education.to_owned()),
                title: Some(title.to_owned()),
                employer: Some(employer.to_owned()),
                political_affiliation: Some(affiliation.to_owned()),
                // A number that happens to repeat is left out rather than invented anew.
                id_number: IdNumber::parse(&id_number, self.today)
                    .ok()
                    .filter(|_| self.issued.insert(id_number.clone())),
                phone: MobilePhone::parse(&phone).ok(),
                sectors: memberships,
                tags,
                ..PersonInput::default()
            },
        ))
    }
}

/// A believable value for a sector's own field; optional fields are sometimes left empty.
fn demo_value(
    rng: &mut ChaCha8Rng,
    field: &SectorFieldView,
    today: chrono::NaiveDate,
) -> Option<String> {
    use chrono::Datelike;
    if !field.required && rng.random_bool(0.3) {
        return None;
    }
    match field.kind {
        FieldKind::Choice => field.choices.choose(rng).cloned(),
        FieldKind::Choices => {
            let count = rng.random_range(1..=2);
            let picked: Vec<&str> = field
                .choices
                .sample(rng, count)
                .map(String::as_str)
                .collect();
            Some(picked.join("、"))
        }
        FieldKind::Number => Some(rng.random_range(3..800).to_string()),
        FieldKind::Date => chrono::NaiveDate::from_ymd_opt(
            today.year() - rng.random_range(1..30),
            rng.random_range(1..=12),
            rng.random_range(1..=28),
        )
        .map(|d| d.format("%Y-%m-%d").to_string()),
        FieldKind::Text => None,
    }
}

/// An account created with the demo, and its password, shown once.
pub struct DemoAccount {
    pub username: String,
    pub password: String,
}

/// From this many people, the demo builds the directory's indexes once at the end.
const LARGE_DEMO: usize = 30_000;

/// People made and imported at a time.
const DEMO_CHUNK: usize = 5_000;

/// The accounts of the three duties kept apart (三员分立), created with the demo.
pub struct DemoAccounts {
    /// The system administrator.
    pub admin: DemoAccount,
    /// The security administrator: accounts, roles, the clear-export right.
    pub security: DemoAccount,
    /// The auditor: the audit log.
    pub auditor: DemoAccount,
    /// Staff of 新城区, who receive the demo's cases.
    pub staff: DemoAccount,
    /// A member of 新城区, who submits cases and reports from the portal.
    pub member: DemoAccount,
}

/// The user names of the demo's accounts.
pub const DEMO_ADMIN: &str = "admin";
pub const DEMO_SECURITY: &str = "security";
pub const DEMO_AUDITOR: &str = "auditor";

/// People loaded by `serve --demo` and by `tongxin demo` unless told otherwise.
pub const DEFAULT_PEOPLE: usize = 300;

/// Loads the demo city with `people` synthetic people into an empty database and creates its
/// administrator.
pub async fn load(
    store: &Store,
    now: Timestamp,
    seed_value: u64,
    people_count: usize,
) -> Result<DemoAccounts, DemoError> {
    if !store.is_empty().await? {
        return Err(DemoError::NotEmpty);
    }
    match fill(store, now, seed_value, people_count).await {
        Ok(admin) => Ok(admin),
        Err(failure) => {
            // The load takes several transactions: take back what the first ones wrote.
            store.discard_failed_load(true).await?;
            Err(failure)
        }
    }
}

/// Writes the demo city into an empty database.
async fn fill(
    store: &Store,
    now: Timestamp,
    seed_value: u64,
    people_count: usize,
) -> Result<DemoAccounts, DemoError> {
    let tree = city(seed_value)?;
    let system = Actor::system("demo");
    store.create_tree(&system, now, &tree).await?;
    for (code, name) in SECTORS {
        let sector = store
            .create_sector(&system, now, &SectorCode::parse(code)?, name)
            .await?;
        for (_, key, label, kind, required, choices) in SECTOR_FIELDS.iter().filter(|f| f.0 == code)
        {
            let input = SectorFieldInput {
                label: (*label).to_owned(),
                required: *required,
                choices: if kind.has_choices() {
                    choices.iter().map(|c| (*c).to_owned()).collect()
                } else {
                    Vec::new()
                },
            };
            store
                .create_sector_field(&system, now, sector.id, key, *kind, input)
                .await?;
        }
    }
    let population = Population::of(store).await?;
    let mut maker = population.maker(seed_value, now.date());
    let mut import = store.begin_people_import(&system, now).await?;
    if people_count >= LARGE_DEMO {
        import.defer_indexes().await?;
    }
    let mut left = people_count;
    while left > 0 {
        let chunk = maker.chunk(left.min(DEMO_CHUNK));
        if chunk.is_empty() {
            break;
        }
        left -= chunk.len();
        import.add(&chunk).await?;
        if let Some(refused) = import.refused().first() {
            return Err(DemoError::Invalid(refused.invalid.clone()));
        }
    }
    import.finish(false).await?;
    organizations::load(store, now).await?;
    activities::load(store, now, seed_value).await?;
    let channel = cases::load(store, now).await?;
    let account = async |name: &str, role: Role| -> Result<DemoAccount, DemoError> {
        let password = tongxin_store::generate_password();
        store
            .add_user_as_system(
                now,
                tree.code.as_str(),
                Username::parse(name)?,
                role,
                Password::parse(&password)?,
            )
            .await?;
        Ok(DemoAccount {
            username: name.to_owned(),
            password,
        })
    };
    Ok(DemoAccounts {
        admin: account(DEMO_ADMIN, Role::Admin).await?,
        security: account(DEMO_SECURITY, Role::Security).await?,
        auditor: account(DEMO_AUDITOR, Role::Auditor).await?,
        staff: channel.staff,
        member: channel.member,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the database already holds units; the demo loads only into an empty database")]
    NotEmpty,
    #[error("demo data is invalid: {0}")]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(seed: &UnitSeed) -> usize {
        1 + seed.children.iter().map(count).sum::<usize>()
    }

    fn codes(seed: &UnitSeed, out: &mut Vec<String>) {
        out.push(seed.code.as_str().to_owned());
        for child in &seed.children {
            codes(child, out);
        }
    }

    #[test]
    fn same_seed_same_city() {
        let a = city(7).unwrap_or_else(|e| panic!("{e}"));
        let b = city(7).unwrap_or_else(|e| panic!("{e}"));
        let (mut ca, mut cb) = (Vec::new(), Vec::new());
        codes(&a, &mut ca);
        codes(&b, &mut cb);
        assert_eq!(ca, cb);
    }

    #[test]
    fn codes_are_unique_and_follow_the_levels() {
        let city = city(1).unwrap_or_else(|e| panic!("{e}"));
        let mut all = Vec::new();
        codes(&city, &mut all);
        let unique: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        assert_eq!(city.children.len(), 9);
        for county in &city.children {
            assert_eq!(county.code.as_str().len(), 6);
            for township in &county.children {
                assert_eq!(township.code.as_str().len(), 9);
                assert!(township.code.as_str().starts_with(county.code.as_str()));
                for village in &township.children {
                    assert_eq!(village.code.as_str().len(), 12);
                }
            }
        }
        assert!(count(&city) > 300, "{}", count(&city));
    }

    #[test]
    fn the_banner_has_sumu_and_gacha() {
        let city = city(1).unwrap_or_else(|e| panic!("{e}"));
        let banner = city
            .children
            .iter()
            .find(|c| c.code.as_str() == "150121")
            .unwrap_or_else(|| panic!("no banner"));
        let names: Vec<&str> = banner
            .children
            .iter()
            .flat_map(|t| std::iter::once(t).chain(t.children.iter()))
            .map(|u| u.name.as_str())
            .collect();
        assert!(names.iter().any(|n| n.ends_with("苏木")), "{names:?}");
        assert!(names.iter().any(|n| n.ends_with("嘎查")), "{names:?}");
    }
}
