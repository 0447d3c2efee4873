//! The demo city: Hohhot (150100) with its nine real county-level units and generated
//! township- and village-level units, deterministic for a given seed.

use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tongxin_core::{Invalid, Password, Role, SectorCode, Timestamp, UnitCode, UnitName, Username};
use tongxin_store::{Actor, Store, StoreError, UnitSeed};

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

/// The administrator created with the demo, and the password shown once.
pub struct DemoAdmin {
    pub username: String,
    pub password: String,
}

/// The user name of the demo administrator.
pub const DEMO_ADMIN: &str = "admin";

/// Loads the demo city into an empty database and creates its administrator.
pub async fn load(store: &Store, now: Timestamp, seed_value: u64) -> Result<DemoAdmin, DemoError> {
    if !store.is_empty().await? {
        return Err(DemoError::NotEmpty);
    }
    let tree = city(seed_value)?;
    let system = Actor::system("demo");
    store.create_tree(&system, now, &tree).await?;
    for (code, name) in SECTORS {
        store
            .create_sector(&system, now, &SectorCode::parse(code)?, name)
            .await?;
    }
    let password = tongxin_store::generate_password();
    store
        .add_user_as_system(
            now,
            tree.code.as_str(),
            Username::parse(DEMO_ADMIN)?,
            Role::Admin,
            Password::parse(&password)?,
        )
        .await?;
    Ok(DemoAdmin {
        username: DEMO_ADMIN.to_owned(),
        password,
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
