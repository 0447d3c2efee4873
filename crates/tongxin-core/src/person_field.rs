//! The fields of a person record, listed once: the key that names each in messages, history
//! and the API; its column headers in a directory file; whether it is protected (sealed at
//! rest, masked by default); whether a member may propose a change to it. The directory file,
//! the history, the protected fields and the members' proposals all read this list.

/// One field of a person record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonField {
    /// The key that names the field in messages, history and the API.
    pub key: &'static str,
    /// Its column header in a directory file, in Chinese.
    pub header_zh: &'static str,
    /// Its column header in a directory file, in English.
    pub header_en: &'static str,
    /// Sealed at rest, masked by default, revealed only through an audited act.
    pub protected: bool,
    /// A member may propose a change to it from their own record.
    pub proposable: bool,
    /// Kept for the staff's own work (their notes, their tags): never shown to the member the
    /// record describes.
    pub staff_only: bool,
}

const fn field(
    key: &'static str,
    header_zh: &'static str,
    header_en: &'static str,
    protected: bool,
    proposable: bool,
) -> PersonField {
    PersonField {
        key,
        header_zh,
        header_en,
        protected,
        proposable,
        staff_only: false,
    }
}

/// A field the member the record describes does not see.
const fn staff_only(
    key: &'static str,
    header_zh: &'static str,
    header_en: &'static str,
) -> PersonField {
    PersonField {
        staff_only: true,
        ..field(key, header_zh, header_en, false, false)
    }
}

/// Every field of a person record, in the order of a directory file's columns.
pub const PERSON_FIELDS: [PersonField; 17] = [
    field("person_name", "姓名", "name", false, false),
    field("gender", "性别", "gender", false, false),
    field("birth_date", "出生日期", "birth_date", false, false),
    field("id_number", "身份证号", "id_number", true, false),
    field("phone", "手机号", "phone", true, true),
    field("unit", "单位代码", "unit_code", false, false),
    field("sector", "界别", "sectors", false, false),
    field("employer", "工作单位", "employer", false, true),
    field("title", "职务", "title", false, true),
    field(
        "political_affiliation",
        "政治面貌",
        "political_affiliation",
        false,
        true,
    ),
    field("education", "学历", "education", false, true),
    staff_only("tags", "标签", "tags"),
    staff_only("notes", "备注", "notes"),
    field("occupation", "职业", "occupation", false, true),
    field("address", "地址", "address", false, true),
    field("ethnicity", "民族", "ethnicity", true, false),
    field("religion", "宗教信仰", "religion", true, false),
];

/// The field with this key.
pub fn person_field(key: &str) -> Option<&'static PersonField> {
    PERSON_FIELDS.iter().find(|f| f.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_headers_are_unique() {
        for (i, a) in PERSON_FIELDS.iter().enumerate() {
            for b in &PERSON_FIELDS[i + 1..] {
                assert_ne!(a.key, b.key);
                assert_ne!(a.header_zh, b.header_zh);
                assert_ne!(a.header_en, b.header_en);
            }
        }
        assert_eq!(person_field("phone").map(|f| f.protected), Some(true));
    }
}
